# SPDX-License-Identifier: Apache-2.0
# JWT auth: every login error string of the wire reference, byte for byte, the config- and
# role-time checks, the per-flavor audience rule and the JWKS cache (fetch on first use and on a miss).
import json
import threading
import time
import unittest

from devvault_harness import DevVaultTestCase, IdP, Key, SPIFFE_ID, claims, err, login

ROLE = {"user_claim": "sub", "bound_audiences": "vault", "bound_subject": SPIFFE_ID, "role_type": "jwt",
        "token_policies": "default"}


class LoginErrorsTest(DevVaultTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = Key("ES256", "k1")
        cls.stranger = Key("ES256", "k2")
        cls.idp = IdP([cls.key])
        dv = cls.dv
        dv.root_call("POST", "sys/auth/jwt", {"type": "jwt"})
        dv.root_call("POST", "auth/jwt/config", {"oidc_discovery_url": cls.idp.issuer, "bound_issuer": cls.idp.issuer})
        dv.root_call("POST", "auth/jwt/role/agent", ROLE)
        dv.root_call("POST", "auth/jwt/role/web", {"user_claim": "sub", "allowed_redirect_uris": "http://localhost/cb",
                                                   "bound_audiences": "vault"})
        dv.root_call("POST", "auth/jwt/role/email", dict(ROLE, user_claim="email"))
        dv.root_call("POST", "auth/jwt/role/numeric", dict(ROLE, user_claim="n"))
        dv.root_call("POST", "auth/jwt/role/noaud", {"user_claim": "sub", "bound_subject": SPIFFE_ID, "role_type": "jwt"})
        dv.root_call("POST", "auth/jwt/role/team", dict(ROLE, bound_claims={"team": ["agents", "ops"]}))
        dv.root_call("POST", "auth/jwt/role/teamglob", dict(ROLE, bound_claims={"team": "agent*"},
                                                            bound_claims_type="glob"))
        dv.root_call("POST", "auth/jwt/role/cidr", dict(ROLE, token_bound_cidrs="10.0.0.0/8"))
        dv.root_call("POST", "auth/jwt/role/noleeway", dict(ROLE, clock_skew_leeway=-1))
        dv.root_call("POST", "sys/auth/unconfigured", {"type": "jwt"})
        dv.root_call("POST", "sys/auth/static", {"type": "jwt"})
        rsa_key = Key("RS256", "r1")
        cls.rsa_key = rsa_key
        dv.root_call("POST", "auth/static/config", {"jwt_validation_pubkeys": [cls.key.public_pem, rsa_key.public_pem],
                                                    "jwt_supported_algs": ["ES256"]})
        dv.root_call("POST", "auth/static/role/agent", ROLE)

    @classmethod
    def tearDownClass(cls):
        cls.idp.stop()
        super().tearDownClass()

    def login_error(self, token, body, role="agent", status=400, auth_path="jwt"):
        self.assertBody(login(self.dv, token, role, auth_path), status, body)

    def c(self, **over):
        return claims(self.idp.issuer, **over)

    def test_a_valid_token_logs_in(self):
        status, _, body = login(self.dv, self.key.sign(self.c()), "agent")
        self.assertEqual(status, 200, body)

    def test_role_and_configuration_errors(self):
        t = self.key.sign(self.c())
        self.assertBody(self.dv.call("POST", "auth/jwt/login", {"jwt": t}), 400, err("missing role"))
        self.login_error(t, err('role "foo" could not be found'), role="FOO")
        self.login_error(t, err("role with oidc role_type is not allowed"), role="web")
        self.login_error("", err("missing token"))
        self.login_error(t, err("could not load configuration"), auth_path="unconfigured")
        self.login_error(t, err("permission denied"), auth_path="not-mounted", status=403)
        self.login_error(t, err("permission denied"), role="cidr", status=403)

    def test_role_names_are_lowercased(self):
        status, _, body = login(self.dv, self.key.sign(self.c()), role="AGENT")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["auth"]["metadata"], {"role": "agent"})

    def test_signature_errors(self):
        self.login_error(self.stranger.sign(self.c()), err(
            "error validating token: error verifying token signature: failed to verify id token signature"))
        self.login_error(self.stranger.sign(self.c(), kid="k1"), err(
            "error validating token: error verifying token signature: failed to verify id token signature"))
        self.login_error(self.stranger.sign(self.c()), err(
            "error validating token: error verifying token signature: no known key successfully validated the token "
            "signature"), auth_path="static")
        self.login_error(self.rsa_key.sign(self.c()), err(
            "error validating token: invalid algorithm (alg) header parameter: token signed with unexpected algorithm"),
            auth_path="static")

    def test_claim_errors(self):
        cases = [
            (self.c(iss="https://evil.example"), "error validating token: invalid issuer (iss) claim"),
            (self.c(sub="spiffe://example.org/other"), "error validating token: invalid subject (sub) claim"),
            (self.c(aud="not-vault"), "error validating token: invalid audience (aud) claim: audience claim does not "
                                      "match any expected audience"),
            (self.c(aud=None), "error validating token: invalid audience (aud) claim: audience claim does not match "
                               "any expected audience"),
            (self.c(exp=int(time.time()) - 120), "error validating token: invalid expiration time (exp) claim: token "
                                                 "is expired"),
            (self.c(nbf=int(time.time()) + 120), "error validating token: invalid not before (nbf) claim: token not "
                                                 "yet valid"),
            (self.c(iat=int(time.time()) + 120), "error validating token: invalid issued at (iat) claim: token issued "
                                                 "in the future"),
            (self.c(iat=int(time.time()) + 120, nbf=None), "error validating token: invalid not before (nbf) claim: "
                                                           "token not yet valid"),
            (self.c(iat=None, nbf=None, exp=None), "error validating token: no issued at (iat), not before (nbf), or "
                                                   "expiration time (exp) claims in token"),
        ]
        for c, msg in cases:
            with self.subTest(msg=msg, claims=c):
                self.login_error(self.key.sign(c), err(msg))

    def test_time_leeways(self):
        now = int(time.time())
        # Inside the 60 s clock skew an expired token still passes; with the skew disabled it fails.
        self.assertLogsIn(self.dv, self.key.sign(self.c(exp=now - 30)), "agent")
        self.login_error(self.key.sign(self.c(exp=now - 30)), err(
            "error validating token: invalid expiration time (exp) claim: token is expired"), role="noleeway")
        # With only iat, the token lives iat + 150 s (expiration leeway) + 60 s (skew).
        self.assertLogsIn(self.dv, self.key.sign(self.c(exp=None, nbf=None, iat=now - 200)), "agent")
        self.login_error(self.key.sign(self.c(exp=None, nbf=None, iat=now - 220)), err(
            "error validating token: invalid expiration time (exp) claim: token is expired"))

    def test_identity_and_bound_claim_errors(self):
        self.login_error(self.key.sign(self.c()), err('claim "email" not found in token'), role="email")
        self.login_error(self.key.sign(self.c(n=5)), err('claim "n" could not be converted to string'), role="numeric")
        self.login_error(self.key.sign(self.c()), err('error validating claims: claim "team" is missing'), role="team")
        self.login_error(self.key.sign(self.c(team="finance")), err(
            'error validating claims: claim "team" does not match any associated bound claim values'), role="team")
        self.assertLogsIn(self.dv, self.key.sign(self.c(team=["x", "ops"])), "team")
        self.assertLogsIn(self.dv, self.key.sign(self.c(team="agents-blue")), "teamglob")
        self.login_error(self.key.sign(self.c(team="bagents")), err(
            'error validating claims: claim "team" does not match any associated bound claim values'), role="teamglob")

    def test_openbao_rejects_only_an_array_audience_when_the_role_binds_none(self):
        self.login_error(self.key.sign(self.c(aud=["vault"])),
                         err("audience claim found in JWT but no audiences bound to the role"), role="noaud")
        self.assertLogsIn(self.dv, self.key.sign(self.c(aud="vault")), "noaud")
        self.assertLogsIn(self.dv, self.key.sign(self.c(aud=None)), "noaud")

    def test_config_errors(self):
        dv = self.dv
        dv.root_call("POST", "sys/auth/cfg", {"type": "jwt"})
        one_of = err("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set")
        self.assertBody(dv.call("POST", "auth/cfg/config", {}, token=dv.root), 400, one_of)
        self.assertBody(dv.call("POST", "auth/cfg/config", {"jwks_url": self.idp.issuer + "/jwks",
                                                            "oidc_discovery_url": self.idp.issuer}, token=dv.root),
                        400, one_of)
        mismatched = IdP([self.key])
        self.addCleanup(mismatched.stop)
        mismatched.issuer_override = "https://other-issuer.example"
        self.assertBody(dv.call("POST", "auth/cfg/config", {"oidc_discovery_url": mismatched.issuer}, token=dv.root),
                        400, err("error checking oidc discovery URL"))
        self.assertBody(dv.call("POST", "auth/cfg/config", {"oidc_discovery_url": self.idp.issuer + "/"},
                                token=dv.root), 400, err("error checking oidc discovery URL"))
        mismatched.jwks_status = 404
        url = mismatched.issuer + "/jwks"
        self.assertBody(dv.call("POST", "auth/cfg/config", {"jwks_url": url}, token=dv.root), 400,
                        err("error checking jwks URL"))
        self.assertBody(dv.call("POST", "auth/cfg/config", {"jwks_url": url, "jwks_ca_pem": "junk"}, token=dv.root),
                        400, err("error checking jwks_ca_pem"))
        self.assertBody(dv.call("POST", "auth/cfg/config", {"jwt_validation_pubkeys": ["not a key"]}, token=dv.root),
                        400, err("error parsing public key: data does not contain any valid public keys"))
        self.assertBody(dv.call("POST", "auth/cfg/config", {"jwt_validation_pubkeys": [self.key.public_pem],
                                                            "jwt_supported_algs": ["ES256", "HS256"]}, token=dv.root),
                        400, err('invalid jwt_supported_algs: unsupported signing algorithm "HS256"'))

    def test_role_errors(self):
        dv = self.dv
        cases = [
            ({"bound_audiences": "vault", "role_type": "jwt"}, "a user claim must be defined on the role"),
            ({"user_claim": "sub", "role_type": "jwt"},
             "must have at least one bound constraint when creating/updating a role"),
            ({"user_claim": "sub", "bound_audiences": "vault"},
             "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified."),
            (dict(ROLE, token_type="batch", token_num_uses=2),
             "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count"),
            (dict(ROLE, token_ttl="2h", token_max_ttl="1h"), "'token_ttl' cannot be greater than 'token_max_ttl'"),
        ]
        for body, msg in cases:
            with self.subTest(msg=msg):
                self.assertBody(dv.call("POST", "auth/jwt/role/broken", body, token=dv.root), 400, err(msg))
        self.assertEqual(dv.call("GET", "auth/jwt/role/broken", token=dv.root)[:1], (404,))
        dv.root_call("POST", "auth/jwt/role/Defaults", {"user_claim": "sub", "bound_subject": SPIFFE_ID,
                                                        "role_type": "jwt"})
        data = dv.root_call("GET", "auth/jwt/role/defaults")["data"]
        self.assertEqual((data["role_type"], data["clock_skew_leeway"], data["expiration_leeway"],
                          data["not_before_leeway"], data["token_type"], data["token_num_uses"]),
                         ("jwt", 0, 0, 0, "default-service", 0))


class VaultFlavorAudienceTest(DevVaultTestCase):
    flavor = "vault"

    def test_vault_rejects_any_audience_when_the_role_binds_none(self):
        key = Key("ES256", "k1")
        dv = self.dv
        dv.root_call("POST", "sys/auth/jwt", {"type": "jwt"})
        dv.root_call("POST", "auth/jwt/config", {"jwt_validation_pubkeys": key.public_pem})
        dv.root_call("POST", "auth/jwt/role/noaud", {"user_claim": "sub", "bound_subject": SPIFFE_ID, "role_type": "jwt"})
        msg = err("audience claim found in JWT but no audiences bound to the role")
        for aud in ("vault", ["vault"]):
            with self.subTest(aud=aud):
                self.assertBody(login(dv, key.sign(claims("https://i", aud=aud)), "noaud"), 400, msg)
        status, _, body = login(dv, key.sign(claims("https://i", aud=None)), "noaud")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["mount_type"], "")
        self.assertBody(dv.call("POST", "auth/jwt/config", {}, token=dv.root), 400, err(
            "exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or 'oidc_discovery_url' must be set"))
        jwks = IdP([key])
        self.addCleanup(jwks.stop)
        jwks.jwks_status = 500
        self.assertBody(dv.call("POST", "auth/jwt/config", {"jwks_url": jwks.issuer + "/jwks"}, token=dv.root), 400,
                        err(f"error checking jwks URL {jwks.issuer}/jwks"))


class JWKSCacheTest(DevVaultTestCase):
    def test_keys_are_fetched_on_first_use_and_on_a_miss_only(self):
        k1, k2, k3 = Key("ES256", "k1"), Key("ES256", "k2"), Key("EdDSA", "k3")
        idp = IdP([k1, k2])
        self.addCleanup(idp.stop)
        dv = self.dv
        dv.root_call("POST", "sys/auth/jwt", {"type": "jwt"})
        dv.root_call("POST", "auth/jwt/config", {"jwks_url": idp.issuer + "/jwks"})
        self.assertEqual(idp.count("jwks"), 1, "config write checks the JWKS URL once")
        dv.root_call("POST", "auth/jwt/role/agent", ROLE)
        ok = lambda key: login(dv, key.sign(claims(idp.issuer)), "agent")[0]
        self.assertEqual(ok(k1), 200)
        self.assertEqual(idp.count("jwks"), 2, "the first login fetches: the config-time fetch is not cached")
        self.assertEqual((ok(k1), ok(k2), ok(k1)), (200, 200, 200))
        self.assertEqual(idp.count("jwks"), 2, "cached keys need no fetch, whatever the time")
        self.assertEqual(ok(k3), 400)
        self.assertEqual(idp.count("jwks"), 3, "an unknown kid costs one fetch")
        idp.keys.append(k3)
        self.assertEqual(ok(k3), 200)
        self.assertEqual(idp.count("jwks"), 4, "a rotated-in key is picked up by the refetch")
        idp.jwks_status = 503
        self.assertEqual(ok(k1), 200, "the cache serves known kids while the JWKS endpoint is down")
        self.assertEqual(idp.count("jwks"), 4)
        bad = Key("ES256", "k9")
        status, _, body = login(dv, bad.sign(claims(idp.issuer)), "agent")
        self.assertEqual(status, 400)
        self.assertTrue(body.startswith(b'{"errors":["error validating token: error verifying token signature: '
                                        b'fetching keys oidc: get keys failed: 503 '), body)
        idp.jwks_status = 200
        dv.root_call("POST", "auth/jwt/config", {"jwks_url": idp.issuer + "/jwks"})
        before = idp.count("jwks")
        self.assertEqual(ok(k1), 200)
        self.assertEqual(idp.count("jwks"), before + 1, "a config write resets the cache")

    def test_concurrent_logins_share_one_discovery_and_one_jwks_fetch(self):
        k1 = Key("ES256", "k1")
        idp = IdP([k1])
        self.addCleanup(idp.stop)
        dv = self.dv
        dv.root_call("POST", "sys/auth/crowd", {"type": "jwt"})
        dv.root_call("POST", "auth/crowd/config", {"oidc_discovery_url": idp.issuer})
        dv.root_call("POST", "auth/crowd/role/agent", ROLE)
        idp.delay_s = 0.2
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            login(dv, k1.sign(claims(idp.issuer)), "agent", "crowd"))) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r[0] for r in results], [200] * 8, [r[2] for r in results if r[0] != 200])
        self.assertEqual((idp.count("discovery"), idp.count("jwks")), (2, 1))

    def test_ec_keys_with_a_leading_zero_byte_in_a_coordinate_log_in(self):
        # About one P-256 key in 128 has x or y below 2^248. Its JWK must still carry 32-byte coordinates
        # (RFC 7518 6.2.1.2): go-jose, and devvault like it, refuse a shorter one.
        for _ in range(5000):
            key = Key("ES256", "k0")
            n = key.private.public_key().public_numbers()
            if min(n.x, n.y) < 1 << 248:
                break
        else:
            self.fail("no P-256 key with a leading zero byte in 5000 tries")
        idp = IdP([key])
        self.addCleanup(idp.stop)
        dv = self.dv
        dv.root_call("POST", "sys/auth/zeros", {"type": "jwt"})
        dv.root_call("POST", "auth/zeros/config", {"jwks_url": idp.issuer + "/jwks"})
        dv.root_call("POST", "auth/zeros/role/agent", ROLE)
        self.assertLogsIn(dv, key.sign(claims(idp.issuer)), "agent", "zeros")

    def test_discovery_is_fetched_at_config_time_and_when_the_validator_is_built(self):
        k1 = Key("ES256", "k1")
        idp = IdP([k1])
        self.addCleanup(idp.stop)
        dv = self.dv
        dv.root_call("POST", "sys/auth/oidc-disc", {"type": "jwt"})
        dv.root_call("POST", "auth/oidc-disc/config", {"oidc_discovery_url": idp.issuer})
        self.assertEqual((idp.count("discovery"), idp.count("jwks")), (1, 0))
        dv.root_call("POST", "auth/oidc-disc/role/agent", ROLE)
        for _ in range(3):
            self.assertLogsIn(dv, k1.sign(claims(idp.issuer)), "agent", "oidc-disc")
        self.assertEqual((idp.count("discovery"), idp.count("jwks")), (2, 1))


if __name__ == "__main__":
    unittest.main()
