#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Vault failures: backoff with a bounded request count, recovery, the old secret kept until it
# expires, and `credgatectl status` explaining each case (down, sealed, slow, 500, 429, 403,
# token_num_uses=1, role_type left at oidc) with when it happened, and when it was resolved.
import os
import signal
import time
import unittest

from harness import IntegrationCase, seed_policy

BINDING = "vault-openai-apikeys-binding"
RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class Faults(IntegrationCase):
    def last_error(self, node):
        return self.wait_until(lambda: node.binding()["status"].get("lastError"), 10, "a last error")

    def test_500_backs_off_with_bounded_requests_then_recovers(self):
        node = self.seed_node_with_faults(fail_status=500, fail_rate=1.0, paths=["auth/jwt/login"])
        err = self.last_error(node)
        self.assertEqual(err["class"], "unavailable")
        self.assertEqual(node.binding()["status"]["state"], "RETRYING")
        self.dv.reset_stats()
        time.sleep(6)
        logins = self.dv.count("auth/jwt/login")
        # Backoff 1 s, 2 s, 4 s (less up to 25 % jitter): at most 4 attempts in 6 s, never a tight loop.
        self.assertLessEqual(logins, 4, f"{logins} logins in 6 s")
        self.assertGreaterEqual(logins, 1)
        self.assertIn("RETRYING", self.status_row(node))
        self.assertIn("HTTP 500", self.status_row(node))
        self.dv.faults()
        self.wait_state(node, "OK", timeout=20)
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)

    def test_429_is_rate_limited_and_explained(self):
        node = self.seed_node_with_faults(fail_status=429, fail_rate=1.0, paths=["auth/jwt/login"])
        err = self.last_error(node)
        self.assertEqual(err["class"], "rate limited")
        self.assertIn("HTTP 429", self.status_row(node))

    def test_403_on_the_read_is_explained_in_plain_words(self):
        node = self.seed_node_with_faults(fail_status=403, fail_rate=1.0, paths=["openai/creds/*"])
        err = self.last_error(node)
        self.assertEqual(err["class"], "permission")
        self.assertEqual(err["operation"], "read")
        self.assertIn("polic", err["explanation"])
        self.assertIn(err["explanation"][:40], self.status_row(node))

    def test_sealed_vault_is_explained_and_recovery_follows_unseal(self):
        node = self.seed_node()
        self.wait_state(node, "OK")
        self.dv.root_call("PUT", "sys/seal")
        node.signal(signal.SIGHUP)  # unchanged policy: nothing restarts
        # Force a refresh attempt through a changed binding (new refresh tuning) while sealed.
        node.write_policy(self.policy(refresh={"revokeGrace": "3s"}))
        self.assertEqual(node.ctl("reload").returncode, 0)
        err = self.last_error(node)
        self.assertEqual(err["class"], "unavailable")
        self.assertIn("seal", (err["explanation"] + err["vaultMessage"]).lower())
        self.assertRegex(err["at"], RFC3339)
        self.assertNotIn("resolvedAt", err)
        row = self.status_row(node)
        self.assertIn("seal", row.lower())
        self.assertRegex(row, r"HTTP 503 on \S+, (just now|\d+s ago)\)")
        self.dv.root_call("PUT", "sys/unseal", {"key": "any"})
        doc = self.wait_state(node, "OK", timeout=20)
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)
        # After recovery the error is a past one: it keeps its time and says when it was resolved,
        # and the table no longer reports Vault as sealed.
        err = doc["status"]["lastError"]
        self.assertRegex(err["resolvedAt"], RFC3339)
        self.assertLessEqual(err["at"], err["resolvedAt"])
        row = self.status_row(node)
        self.assertNotIn("Vault is sealed", row)
        self.assertRegex(row, r"- \(last: unavailable, HTTP 503 on \S+, [^;]+; resolved (just now|\d+s ago)\)")
        y = node.ctl("get", "binding", BINDING, "-o", "yaml")
        self.assertRegex(y.stdout, r"resolvedAt: \"?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
        self.assertNotIn(f'credgate_last_error{{binding="{BINDING}"', node.metrics())

    def test_slow_vault_still_delivers(self):
        self.dv.faults(latency_ms=1500, paths=["auth/jwt/login", "openai/creds/*"])
        node = self.seed_node()
        self.wait_state(node, "OK", timeout=20)
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)

    def test_vault_down_keeps_the_old_secret_until_it_expires(self):
        node = self.seed_node(ttl="6s", refresh={"minLead": "1s", "revokeGrace": "1s"})
        self.wait_state(node, "OK")
        path = node.file_path()
        self.dv.stop()
        err = self.last_error(node)
        self.assertEqual(err["class"], "transport")
        self.assertTrue(os.path.exists(path), "the last good secret stays delivered until it expires")
        self.assertIn(node.binding()["status"]["state"], ("RETRYING", "REFRESHING"))
        doc = self.wait_state(node, "EXPIRED", timeout=10)
        self.assertFalse(os.path.exists(path), "an expired secret is removed")
        self.assertIn("removed when it expired", doc["status"]["message"])
        self.assertNotIn("stays", doc["status"]["message"])
        self.assertEqual(doc["status"]["file"]["files"], [], "an expired binding lists no file")
        row = self.status_row(node)
        self.assertIn("EXPIRED", row)
        self.assertNotIn(path, row)
        self.assertNotIn("stays", row)

    def test_token_num_uses_1_is_explained(self):
        node = self.seed_node(role_overrides={"token_num_uses": 1})
        err = self.last_error(node)
        self.assertFalse(err["retryable"])
        self.assertIn("token_num_uses", err["explanation"])
        self.assertEqual(node.binding()["status"]["state"], "FAILED")
        self.assertIn("token_num_uses", self.status_row(node))
        # The operator fixes the role; a reload (policy unchanged) makes the binding try again now
        # instead of after the long wait for non-retryable errors.
        self.dv.root_call("POST", "auth/jwt/role/openai-apikeys", {"token_num_uses": 0})
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("unchanged: vault-openai-apikeys-binding", r.stdout)
        self.wait_state(node, "OK")
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)

    def test_role_type_left_at_oidc_is_explained(self):
        node = self.seed_node(role_overrides={"role_type": "oidc", "allowed_redirect_uris": "http://localhost/cb"})
        err = self.last_error(node)
        self.assertFalse(err["retryable"])
        self.assertIn("role_type", err["explanation"])
        self.assertIn("role_type", self.status_row(node))

    # ---- helpers ------------------------------------------------------------------------------
    def policy(self, **kw):
        return seed_policy(self.dv.vault, **kw)

    def seed_node_with_faults(self, **faults):
        self.dv.faults(**faults)
        return self.seed_node()


if __name__ == "__main__":
    unittest.main(verbosity=2)
