# SPDX-License-Identifier: Apache-2.0
# The seed scenario end to end: operator configuration over the HTTP API, JWT login (discovery, JWKS
# URL, static keys, HTTPS), an OpenAI key read, the key used and then refused once the token is revoked.
import json
import unittest

from devvault_harness import (DevVault, DevVaultTestCase, IdP, Key, ORG, PROJECT, SPIFFE_ID, TLSMaterial, claims,
                     configure_seed, err, login, login_token, request)


class SeedScenarioTest(DevVaultTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = Key("ES256", "k1")
        cls.idp = IdP([cls.key])
        configure_seed(cls.dv, {"oidc_discovery_url": cls.idp.issuer, "bound_issuer": cls.idp.issuer})

    @classmethod
    def tearDownClass(cls):
        cls.idp.stop()
        super().tearDownClass()

    def test_agent_logs_in_reads_a_key_uses_it_and_loses_it_at_revoke_self(self):
        status, headers, body = login(self.dv, self.key.sign(claims(self.idp.issuer)))
        self.assertEqual(status, 200, body)
        auth = json.loads(body)["auth"]
        self.assertTrue(auth["client_token"].startswith("hvs."))
        self.assertEqual(auth["policies"], ["default", "read-openai-apikeys"])
        self.assertEqual(auth["token_policies"], ["default", "read-openai-apikeys"])
        self.assertEqual(auth["metadata"], {"role": "openai-apikeys"})
        self.assertEqual((auth["token_type"], auth["orphan"], auth["num_uses"], auth["renewable"]),
                         ("service", True, 2, True))
        self.assertEqual(auth["lease_duration"], 2764800)
        self.assertIsNone(auth["mfa_requirement"])
        token = auth["client_token"]

        status, headers, body = self.dv.call("GET", "openai/creds/my-role", token=token)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["cache-control"], "no-store")
        secret = json.loads(body)
        if self.flavor == "vault":
            self.assertEqual(secret["mount_type"], "openai")
        else:
            self.assertNotIn("mount_type", secret)
        self.assertRegex(secret["lease_id"], r"^openai/creds/my-role/[A-Za-z0-9]{24}$")
        self.assertEqual((secret["renewable"], secret["lease_duration"]), (False, 900))
        self.assertEqual(list(secret["data"]), ["api_key", "api_key_id", "service_account", "service_account_id"])
        self.assertTrue(secret["data"]["api_key"].startswith("sk-svcacct-"))
        self.assertRegex(secret["data"]["service_account"], r"^vault-my-role-[a-z0-9]{8}$")
        api_key = secret["data"]["api_key"]

        status, _, body = self.dv.openai_call("GET", "/v1/models", api_key,
                                              {"OpenAI-Organization": ORG, "OpenAI-Project": PROJECT})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["object"], "list")
        status, _, body = self.dv.openai_call("POST", "/v1/chat/completions", api_key,
                                              body={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["choices"][0]["message"]["role"], "assistant")

        self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 204, b"")

        status, _, body = self.dv.openai_call("GET", "/v1/models", api_key)
        self.assertEqual(status, 401)
        e = json.loads(body)["error"]
        self.assertEqual((e["type"], e["param"], e["code"]), ("invalid_request_error", None, "invalid_api_key"))
        self.assertNotIn(api_key, e["message"])
        self.assertBody(self.dv.call("GET", "openai/creds/my-role", token=token), 403, self.dead_token_body())

    def dead_token_body(self):
        if self.flavor == "vault":
            return err("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n")
        return err("permission denied")

    def test_openai_stand_in_checks_organization_and_project_headers(self):
        token = login_token(self.dv, self.key.sign(claims(self.idp.issuer)))
        status, _, body = self.dv.call("GET", "openai/creds/my-role", token=token)
        api_key = json.loads(body)["data"]["api_key"]
        status, _, body = self.dv.openai_call("GET", "/v1/models", api_key, {"OpenAI-Organization": "org-other"})
        self.assertEqual((status, json.loads(body)["error"]["code"]), (401, "mismatched_organization"))
        status, _, body = self.dv.openai_call("GET", "/v1/models", api_key, {"OpenAI-Project": "proj_other"})
        self.assertEqual((status, json.loads(body)["error"]["code"]), (401, "mismatched_project"))
        status, _, body = self.dv.openai_call("GET", "/v1/models")
        self.assertEqual(status, 401)
        self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 204, b"")

    def test_every_read_creates_a_new_service_account_and_key(self):
        token = login_token(self.dv, self.key.sign(claims(self.idp.issuer)), role="openai-apikeys")
        self.dv.root_call("POST", "auth/jwt/role/unlimited", {"user_claim": "sub", "bound_audiences": "vault",
                                                              "token_policies": "read-openai-apikeys", "role_type": "jwt"})
        token = login_token(self.dv, self.key.sign(claims(self.idp.issuer)), role="unlimited")
        first = json.loads(self.dv.call("GET", "openai/creds/my-role", token=token)[2])["data"]
        second = json.loads(self.dv.call("GET", "openai/creds/my-role", token=token)[2])["data"]
        for field in ("api_key", "api_key_id", "service_account", "service_account_id"):
            self.assertNotEqual(first[field], second[field])
        self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 204, b"")

    def test_login_through_a_jwks_url_and_through_static_keys(self):
        rsa_key = Key("RS256", "rsa-1")
        ed_key = Key("EdDSA", "ed-1")
        jwks_idp = IdP([rsa_key])
        self.addCleanup(jwks_idp.stop)
        role = {"user_claim": "sub", "bound_audiences": "vault", "token_policies": "read-openai-apikeys",
                "role_type": "jwt"}
        self.dv.root_call("POST", "sys/auth/jwks-auth", {"type": "jwt"})
        self.dv.root_call("POST", "auth/jwks-auth/config", {"jwks_url": jwks_idp.issuer + "/jwks"})
        self.dv.root_call("POST", "auth/jwks-auth/role/agent", role)
        self.dv.root_call("POST", "sys/auth/static-auth", {"type": "jwt"})
        self.dv.root_call("POST", "auth/static-auth/config",
                          {"jwt_validation_pubkeys": [ed_key.public_pem, self.key.public_pem]})
        self.dv.root_call("POST", "auth/static-auth/role/agent", role)
        for auth_path, key in (("jwks-auth", rsa_key), ("static-auth", ed_key), ("static-auth", self.key)):
            with self.subTest(auth_path=auth_path, alg=key.kind):
                token = login_token(self.dv, key.sign(claims("https://any-issuer.example")), "agent", auth_path)
                status, _, body = self.dv.call("GET", "openai/creds/my-role", token=token)
                self.assertEqual(status, 200, body)
                api_key = json.loads(body)["data"]["api_key"]
                self.assertEqual(self.dv.openai_call("GET", "/v1/models", api_key)[0], 200)
                self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 204, b"")
                self.assertEqual(self.dv.openai_call("GET", "/v1/models", api_key)[0], 401)


class VaultSeedScenarioTest(SeedScenarioTest):
    """The same scenario against the HashiCorp Vault flavor."""
    flavor = "vault"


class HTTPSTest(unittest.TestCase):
    def test_discovery_and_jwks_over_https_and_a_tls_listener(self):
        tls = TLSMaterial()
        self.addCleanup(tls.dir.cleanup)
        key = Key("ES256", "tls-k1")
        idp = IdP([key], tls=tls)
        self.addCleanup(idp.stop)
        dv = DevVault("--tls-cert", tls.cert_file, "--tls-key", tls.key_file)
        self.addCleanup(dv.stop)
        self.assertTrue(dv.vault.startswith("https://127.0.0.1:"))
        status, _, _ = request(dv.vault + "/v1/sys/health", context=tls.client_context())
        self.assertEqual(status, 200)

        def call(method, path, body, token=dv.root):
            return request(dv.vault + "/v1/" + path, method, json.dumps(body).encode(),
                           {"X-Vault-Token": token} if token else {}, context=tls.client_context())

        self.assertEqual(call("POST", "sys/auth/jwt", {"type": "jwt"})[0], 204)
        # Without the CA the discovery document cannot be fetched.
        status, headers, body = call("POST", "auth/jwt/config", {"oidc_discovery_url": idp.issuer})
        self.assertEqual((status, body), (400, err("error checking oidc discovery URL")))
        self.assertEqual(call("POST", "auth/jwt/config", {"oidc_discovery_url": idp.issuer,
                                                          "oidc_discovery_ca_pem": tls.ca_pem})[0], 204)
        self.assertEqual(call("POST", "auth/jwt/role/agent", {"user_claim": "sub", "bound_subject": SPIFFE_ID,
                                                              "bound_audiences": "vault", "role_type": "jwt"})[0], 204)
        status, _, body = call("POST", "auth/jwt/login", {"role": "agent", "jwt": key.sign(claims(idp.issuer))}, None)
        self.assertEqual(status, 200, body)
        self.assertEqual(call("POST", "sys/auth/jwks", {"type": "jwt"})[0], 204)
        self.assertEqual(call("POST", "auth/jwks/config", {"jwks_url": idp.issuer + "/jwks"})[2],
                         err("error checking jwks URL"))
        self.assertEqual(call("POST", "auth/jwks/config", {"jwks_url": idp.issuer + "/jwks",
                                                           "jwks_ca_pem": tls.ca_pem})[0], 204)
        self.assertEqual(call("POST", "auth/jwks/role/agent", {"user_claim": "sub", "bound_audiences": "vault",
                                                               "role_type": "jwt"})[0], 204)
        status, _, body = call("POST", "auth/jwks/login", {"role": "agent", "jwt": key.sign(claims(idp.issuer))}, None)
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
