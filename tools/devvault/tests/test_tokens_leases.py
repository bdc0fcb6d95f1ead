# SPDX-License-Identifier: Apache-2.0
# Token use counts (1, 2, 0), TTL expiry that revokes leases with no further request, lease endpoints
# and their exact errors, renewals, and the flavor-specific bodies for a dead token.
import datetime
import json
import time
import unittest

from devvault_harness import DevVaultTestCase, Key, SPIFFE_ID, claims, configure_seed, err, login_token

SECRET_CANNOT = ("Secret cannot be returned; token had one use left, so leased credentials were immediately "
                 "revoked.")
ACL_DENIED = "1 error occurred:\n\t* permission denied\n\n"


class TokensAndLeasesTest(DevVaultTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = Key("ES256", "k1")
        dv = cls.dv
        configure_seed(dv, {"jwt_validation_pubkeys": [cls.key.public_pem]})
        base = {"user_claim": "sub", "bound_audiences": "vault", "bound_subject": SPIFFE_ID, "role_type": "jwt",
                "token_policies": "read-openai-apikeys"}
        dv.root_call("POST", "auth/jwt/role/one-use", dict(base, token_num_uses=1))
        dv.root_call("POST", "auth/jwt/role/unlimited", dict(base, token_num_uses=0))
        dv.root_call("POST", "auth/jwt/role/short", dict(base, token_ttl="1s"))
        dv.root_call("POST", "auth/jwt/role/capped", dict(base, token_ttl="10m", token_max_ttl="20m"))
        dv.root_call("POST", "auth/jwt/role/batch", dict(base, token_type="batch"))

    def login(self, role):
        return login_token(self.dv, self.key.sign(claims("https://issuer.example")), role)

    def read_key(self, token, query=""):
        status, _, body = self.dv.call("GET", "openai/creds/my-role" + query, token=token)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def key_works(self, api_key):
        return self.dv.openai_call("GET", "/v1/models", api_key)[0] == 200

    def live_keys(self):
        return self.dv.root_call("GET", "sys/devvault/stats")["data"]["live_openai_keys"]

    def test_num_uses_1_a_dynamic_read_can_never_succeed(self):
        token = self.login("one-use")
        before = self.live_keys()
        self.assertBody(self.dv.call("GET", "openai/creds/my-role", token=token), 400, err(SECRET_CANNOT))
        self.assertEqual(self.live_keys(), before, "the key created for the refused read is deleted")
        self.assertBody(self.dv.call("GET", "auth/token/lookup-self", token=token), 403, err("permission denied"))

    def test_num_uses_2_read_then_revoke_self_kills_the_key(self):
        token = self.login("openai-apikeys")
        secret = self.read_key(token)
        self.assertTrue(self.key_works(secret["data"]["api_key"]))
        self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 204, b"")
        self.assertFalse(self.key_works(secret["data"]["api_key"]))
        self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 403, err("permission denied"))

    def test_num_uses_2_a_second_read_is_refused_and_the_first_key_dies_with_the_token(self):
        token = self.login("openai-apikeys")
        first = self.read_key(token)["data"]["api_key"]
        self.assertBody(self.dv.call("GET", "openai/creds/my-role", token=token), 400, err(SECRET_CANNOT))
        self.assertFalse(self.key_works(first))

    def test_an_acl_denial_still_consumes_a_use(self):
        token = self.login("openai-apikeys")
        self.assertBody(self.dv.call("GET", "secret/data/anything", token=token), 403, err(ACL_DENIED))
        self.assertBody(self.dv.call("GET", "openai/creds/my-role", token=token), 400, err(SECRET_CANNOT))

    def test_num_uses_0_is_unlimited_and_revoke_self_revokes_every_lease(self):
        token = self.login("unlimited")
        keys = [self.read_key(token)["data"]["api_key"] for _ in range(4)]
        look = json.loads(self.dv.call("GET", "auth/token/lookup-self", token=token)[2])["data"]
        self.assertEqual((look["num_uses"], look["type"], look["path"], look["orphan"]), (0, "service", "auth/jwt/login", True))
        self.assertEqual(look["policies"], ["default", "read-openai-apikeys"])
        self.assertTrue(all(self.key_works(k) for k in keys))
        self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 204, b"")
        self.assertFalse(any(self.key_works(k) for k in keys))

    def test_token_ttl_expiry_revokes_its_leases_without_any_further_request(self):
        token = self.login("short")
        api_key = self.read_key(token)["data"]["api_key"]
        self.assertTrue(self.key_works(api_key))
        # Only the OpenAI listener is asked from now on: the server's own sweeper must revoke.
        self.wait_until(lambda: not self.key_works(api_key), timeout=3, what="the key to die with the token")
        self.assertBody(self.dv.call("GET", "openai/creds/my-role", token=token), 403, err("permission denied"))

    def test_lease_ttl_expiry_and_the_ttl_query_rule(self):
        token = self.login("unlimited")
        for query, expected in (("", 900), ("?ttl=10m", 600), ("?ttl=1h", 900), ("?ttl=2h", 900), ("?ttl=0", 900),
                                ("?ttl=30", 30)):
            with self.subTest(query=query):
                self.assertEqual(self.read_key(token, query)["lease_duration"], expected)
        short = self.read_key(token, "?ttl=1s")
        self.assertEqual(short["lease_duration"], 1)
        self.wait_until(lambda: not self.key_works(short["data"]["api_key"]), timeout=3, what="the lease to expire")
        self.assertBody(self.dv.call("PUT", "sys/leases/lookup", {"lease_id": short["lease_id"]}, token=token), 400,
                        err("invalid lease"))
        self.dv.call("POST", "auth/token/revoke-self", token=token)

    def test_leases_do_not_expire_while_sealed_and_go_at_unseal(self):
        token = self.login("unlimited")
        short = self.read_key(token, "?ttl=1s")
        dv = self.dv
        self.assertBody(dv.call("PUT", "sys/seal", token=dv.root), 204, b"")
        try:
            time.sleep(1.3)
            self.assertTrue(self.key_works(short["data"]["api_key"]), "nothing expires while sealed")
        finally:
            dv.call("PUT", "sys/unseal", {"key": "any"})
        self.wait_until(lambda: not self.key_works(short["data"]["api_key"]), timeout=3, what="expiry after unseal")
        dv.call("POST", "auth/token/revoke-self", token=token)

    def test_renewing_an_expired_lease(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/dyn-exp", {"type": "devvault-dynamic"})
        dv.root_call("POST", "dyn-exp/roles/db", {"ttl": "1s", "max_ttl": "5m"})
        dv.root_call("POST", "sys/devvault/faults", {"pause_expiry": True})
        self.addCleanup(dv.call, "DELETE", "sys/devvault/faults", token=dv.root)
        lease_id = dv.root_call("GET", "dyn-exp/creds/db")["lease_id"]
        expire = dv.root_call("PUT", "sys/leases/lookup", {"lease_id": lease_id})["data"]["expire_time"]
        expire_ts = datetime.datetime.fromisoformat(expire).timestamp()
        self.wait_until(lambda: time.time() > expire_ts + 0.1, timeout=3, what="the lease's expire_time")
        self.assertBody(dv.call("PUT", "sys/leases/renew", {"lease_id": lease_id}, token=dv.root), 400,
                        err("lease expired"))
        dv.root_call("DELETE", "sys/devvault/faults")
        self.wait_until(lambda: dv.call("PUT", "sys/leases/renew", {"lease_id": lease_id}, token=dv.root)[2]
                        == err("lease not found"), timeout=3, what="the sweeper to revoke it")

    def test_lease_endpoints_and_their_errors(self):
        token = self.login("unlimited")
        secret = self.read_key(token)
        lid = secret["lease_id"]
        call = lambda m, p, b: self.dv.call(m, p, b, token=token)
        self.assertBody(call("PUT", "sys/leases/renew", {"lease_id": lid}), 400, err("lease is not renewable"))
        # The default policy grants sys/leases/renew only; the URL form needs its own grant.
        self.assertBody(call("PUT", f"sys/leases/renew/{lid}", {}), 403, err(ACL_DENIED))
        self.assertBody(self.dv.call("PUT", f"sys/leases/renew/{lid}", {}, token=self.dv.root), 400,
                        err("lease is not renewable"))
        self.assertBody(call("PUT", "sys/leases/renew", {}), 400, err("lease_id must be specified"))
        self.assertBody(call("PUT", "sys/leases/renew", {"lease_id": "openai/creds/my-role/nope"}), 400,
                        err("lease not found"))
        self.assertBody(call("PUT", "sys/leases/lookup", {"lease_id": "openai/creds/my-role/nope"}), 400,
                        err("invalid lease"))
        status, _, body = call("PUT", "sys/leases/lookup", {"lease_id": lid})
        self.assertEqual(status, 200, body)
        look = json.loads(body)["data"]
        self.assertEqual((look["id"], look["renewable"], look["last_renewal"]), (lid, False, None))
        self.assertLessEqual(look["ttl"], 900)
        self.assertBody(call("PUT", "sys/leases/revoke", {"lease_id": lid}), 403, err(ACL_DENIED))
        self.assertBody(self.dv.call("PUT", "sys/leases/revoke", {"lease_id": lid}, token=self.dv.root), 204, b"")
        self.assertFalse(self.key_works(secret["data"]["api_key"]))
        self.assertBody(self.dv.call("PUT", "sys/leases/revoke", {"lease_id": lid}, token=self.dv.root), 204, b"")
        other = self.read_key(token)
        self.assertBody(self.dv.call("PUT", "sys/leases/revoke", {"lease_id": other["lease_id"], "sync": False},
                                     token=self.dv.root), 202, b"")
        self.assertFalse(self.key_works(other["data"]["api_key"]))
        call("POST", "auth/token/revoke-self", {})

    def test_token_leases_are_listed_cannot_be_renewed_and_revoke_the_token(self):
        token = self.login("unlimited")
        api_key = self.read_key(token)["data"]["api_key"]
        keys = self.dv.root_call("LIST", "sys/leases/lookup/auth/jwt/login/")["data"]["keys"]
        self.assertTrue(all(k.startswith("h") for k in keys), keys)
        mine = [k for k in keys
                if self.dv.root_call("PUT", "sys/leases/lookup", {"lease_id": "auth/jwt/login/" + k})["data"]["ttl"] > 0]
        self.assertTrue(mine)
        lease_id = None
        for k in mine:
            lease_id = "auth/jwt/login/" + k
            self.assertBody(self.dv.call("PUT", "sys/leases/renew", {"lease_id": lease_id}, token=self.dv.root), 400,
                            err("tokens cannot be renewed through this endpoint"))
        for k in mine:
            self.dv.root_call("PUT", "sys/leases/revoke", {"lease_id": "auth/jwt/login/" + k})
        self.assertBody(self.dv.call("GET", "auth/token/lookup-self", token=token), 403, err("permission denied"))
        self.assertFalse(self.key_works(api_key))

    def test_renewable_leases_renew_up_to_their_max_ttl(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/dyn", {"type": "devvault-dynamic"})
        dv.root_call("POST", "dyn/roles/db", {"ttl": "1m", "max_ttl": "5m"})
        status, _, body = dv.call("GET", "dyn/creds/db", token=dv.root)
        secret = json.loads(body)
        self.assertEqual((secret["renewable"], secret["lease_duration"]), (True, 60))
        status, _, body = dv.call("PUT", "sys/leases/renew", {"lease_id": secret["lease_id"], "increment": "2m"},
                                  token=dv.root)
        self.assertEqual(status, 200, body)
        renewed = json.loads(body)
        self.assertEqual((renewed["lease_id"], renewed["renewable"], renewed["lease_duration"], renewed["data"]),
                         (secret["lease_id"], True, 120, None))
        status, _, body = dv.call("PUT", "sys/leases/renew", {"lease_id": secret["lease_id"], "increment": "1h"},
                                  token=dv.root)
        renewed = json.loads(body)
        self.assertLessEqual(renewed["lease_duration"], 300)
        self.assertRegex(renewed["warnings"][0], r'^TTL of "1h" exceeded the effective max_ttl of "[0-9m]+s?"; '
                                                 r'TTL value is capped accordingly$')

    def test_renew_self_is_capped_by_the_roles_max_ttl(self):
        token = self.login("capped")
        status, _, body = self.dv.call("POST", "auth/token/renew-self", {"increment": "1h"}, token=token)
        self.assertEqual(status, 200, body)
        r = json.loads(body)
        self.assertEqual(r["auth"]["client_token"], token)
        self.assertTrue(1190 <= r["auth"]["lease_duration"] <= 1200, r["auth"]["lease_duration"])
        self.assertRegex(r["warnings"][0], r'^TTL of "1h" exceeded the effective max_ttl of "(20m|19m[0-9]+s)"; TTL '
                                           r'value is capped accordingly$')
        status, _, body = self.dv.call("POST", "auth/token/renew-self", {}, token=token)
        self.assertEqual(json.loads(body)["auth"]["lease_duration"], 600)

    def test_the_last_use_of_lookup_self_shows_the_pending_revocation(self):
        token = self.login("openai-apikeys")
        first = json.loads(self.dv.call("GET", "auth/token/lookup-self", token=token)[2])["data"]
        self.assertEqual(first["num_uses"], 1)
        last = json.loads(self.dv.call("GET", "auth/token/lookup-self", token=token)[2])["data"]
        self.assertEqual(last["num_uses"], -1)
        self.assertBody(self.dv.call("GET", "auth/token/lookup-self", token=token), 403, err("permission denied"))

    def test_renew_self_follows_the_role(self):
        self.dv.root_call("POST", "auth/jwt/role/doomed", {"user_claim": "sub", "bound_audiences": "vault",
                                                            "role_type": "jwt", "token_ttl": "5m"})
        token = self.login("doomed")
        self.dv.root_call("POST", "auth/jwt/role/doomed", {"token_ttl": "7m"})
        status, _, body = self.dv.call("POST", "auth/token/renew-self", {}, token=token)
        self.assertEqual((status, json.loads(body)["auth"]["lease_duration"]), (200, 420))
        self.dv.root_call("DELETE", "auth/jwt/role/doomed")
        self.assertBody(self.dv.call("POST", "auth/token/renew-self", {}, token=token), 500,
                        err("1 error occurred:\n\t* role doomed does not exist during renewal\n\n"))

    def test_batch_tokens(self):
        token = self.login("batch")
        self.assertTrue(token.startswith("hvb."))
        secret = self.read_key(token)
        self.assertBody(self.dv.call("POST", "auth/token/revoke-self", token=token), 400,
                        err("batch tokens cannot be revoked"))
        self.assertBody(self.dv.call("POST", "auth/token/renew-self", token=token), 400,
                        err("batch tokens cannot be renewed"))
        self.assertTrue(self.key_works(secret["data"]["api_key"]))
        self.dv.root_call("PUT", "sys/leases/revoke", {"lease_id": secret["lease_id"]})

    def test_missing_and_unknown_tokens(self):
        self.assertBody(self.dv.call("GET", "openai/creds/my-role"), 403, err("permission denied"))
        self.assertBody(self.dv.call("GET", "openai/creds/my-role", token="hvs.unknown"), 403, err("permission denied"))
        self.assertBody(self.dv.call("GET", "openai/creds/my-role", headers={"Authorization": "Bearer hvs.unknown"}),
                        403, err("permission denied"))
        token = self.login("unlimited")
        status, _, _ = self.dv.call("GET", "auth/token/lookup-self", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(status, 200)
        self.dv.call("POST", "auth/token/revoke-self", token=token)


class VaultFlavorTokensTest(DevVaultTestCase):
    flavor = "vault"

    def test_vault_reports_invalid_tokens_with_the_1_17_body(self):
        body = err("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n")
        self.assertBody(self.dv.call("GET", "auth/token/lookup-self", token="hvs.unknown"), 403, body)
        self.assertBody(self.dv.call("GET", "auth/token/lookup-self"), 403, err("permission denied"))
        created = self.dv.root_call("POST", "auth/token/create", {"policies": ["default"], "num_uses": 1})
        token = created["auth"]["client_token"]
        self.assertEqual(created["mount_type"], "token")
        self.assertEqual(self.dv.call("GET", "auth/token/lookup-self", token=token)[0], 200)
        self.assertBody(self.dv.call("GET", "auth/token/lookup-self", token=token), 403, body)


if __name__ == "__main__":
    unittest.main()
