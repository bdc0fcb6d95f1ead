#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Revocation that is never given up: a superseded token whose revocation fails (Vault sealed, or
# revoke-self failing) is retried until Vault confirms it, and SIGTERM revokes every token still
# alive, naming by accessor any it could not. Checked against devvault's own token and lease state.
import calendar
import re
import time
import unittest

from harness import IntegrationCase, seed_policy

BINDING = "vault-openai-apikeys-binding"
LEASE_S = 12


class Revocation(IntegrationCase):
    # ---- helpers ------------------------------------------------------------------------------
    def token_is_gone(self, accessor):
        status, body = self.dv.lookup_accessor(accessor)
        return status == 400 and "invalid accessor" in body

    def rotated_node(self, grace_s):
        """A node whose first secret was just superseded by a rotation: (node, old lease id)."""
        node = self.seed_node(ttl=f"{LEASE_S}s", refresh={"minLead": "2s", "revokeGrace": f"{grace_s}s"})
        first = self.wait_state(node, "OK")
        old_lease = first["status"]["lease"]["id"]
        self.wait_until(lambda: node.binding()["status"].get("lease", {}).get("id") not in (None, old_lease),
                        LEASE_S + 5, "a rotation to supersede the first token", interval=0.05)
        return node, old_lease

    def counters(self, node):
        return node.binding()["status"]["counters"]

    # ---- tests --------------------------------------------------------------------------------
    def test_a_token_superseded_while_vault_is_sealed_is_revoked_once_it_is_unsealed(self):
        node, old_lease = self.rotated_node(grace_s=3)
        # Sealed inside the grace period: the revocation that follows is refused.
        self.dv.root_call("PUT", "sys/seal")
        old_accessor = self.accessor_of(node, old_lease)
        self.wait_until(lambda: f"Failed to revoke the login token (accessor '{old_accessor}'" in node.log_text(),
                        10, "the sealed Vault to refuse the revocation")
        self.assertEqual(self.counters(node)["revocationsPending"], 1)
        self.assertIn(f'credgate_tokens_pending_revocation{{binding="{BINDING}"}} 1', node.metrics())
        self.assertIn("1 login token(s) not revoked yet", node.ctl("status").stdout)
        time.sleep(2)  # a retry or two while still sealed

        self.dv.root_call("PUT", "sys/unseal", {"key": "any"})
        self.wait_until(lambda: self.token_is_gone(old_accessor), 20,
                        "the superseded token to be revoked after the unseal")
        self.wait_until(lambda: self.counters(node)["revocationsPending"] == 0, 5, "nothing left pending")
        self.assertGreaterEqual(self.counters(node)["revocationFailures"], 1)
        log = node.log_text()
        self.assertRegex(log, re.escape(f"revoked the login token (accessor '{old_accessor}', lease '{old_lease}') "
                                        "after ") + r"\d+ failed attempt\(s\)")
        self.assertEqual(log.count(f"Failed to revoke the login token (accessor '{old_accessor}'"), 1,
                         "the failure is logged once, not at every retry")
        current_accessor = self.accessor_of(node, node.binding()["status"]["lease"]["id"])
        self.assertEqual(self.dv.lookup_accessor(current_accessor)[0], 200, "the current token is left alone")
        self.assertNotIn("hvs.", log)

    def test_a_binding_restarted_while_vault_is_sealed_has_its_token_revoked_after_the_unseal(self):
        node = self.seed_node()
        doc = self.wait_state(node, "OK")
        accessor = self.accessor_of(node, doc["status"]["lease"]["id"])
        self.dv.root_call("PUT", "sys/seal")
        node.write_policy(seed_policy(self.dv.vault, refresh={"revokeGrace": "3s"}))  # a changed binding restarts
        self.assertEqual(node.ctl("reload").returncode, 0)
        self.wait_until(lambda: node.api("GET", "/v1/status")[1]["daemon"]["stoppedBindingsRevocationsPending"] == 1,
                        10, "the stopped binding's token to wait for revocation")
        self.assertIn("note: 1 login token(s) of bindings a reload stopped or restarted not revoked yet",
                      node.ctl("status").stdout)
        self.assertIn("credgate_stopped_bindings_tokens_pending_revocation 1", node.metrics())
        self.dv.root_call("PUT", "sys/unseal", {"key": "any"})
        self.wait_until(lambda: self.token_is_gone(accessor), 20, "the stopped binding's token to be revoked")
        self.wait_until(lambda: node.api("GET", "/v1/status")[1]["daemon"]["stoppedBindingsRevocationsPending"] == 0,
                        5, "nothing left pending")

    def test_sigterm_revokes_a_token_whose_revocation_failed_earlier(self):
        # Every revoke-self fails (as if Vault kept refusing), so the superseded token stays alive.
        self.dv.faults(fail_status=503, fail_rate=1.0, paths=["auth/token/revoke-self"])
        node, old_lease = self.rotated_node(grace_s=1)
        old_accessor = self.accessor_of(node, old_lease)
        self.wait_until(lambda: self.counters(node)["revocationFailures"] >= 3, 15,
                        "three failed revocation attempts (backoff 1 s, 2 s, then about 4 s)")
        doc = node.binding()
        self.assertEqual(doc["status"]["counters"]["revocationsPending"], 1)
        self.assertEqual(self.dv.lookup_accessor(old_accessor)[0], 200)
        current_key = self.read_secret(node)["api_key"]
        current_accessor = self.accessor_of(node, doc["status"]["lease"]["id"])

        self.dv.faults()  # Vault works again; the next retry is still seconds away
        next_retry = doc["status"]["nextRevocationAt"]
        sent = time.monotonic()
        self.assertEqual(node.stop(), 0)
        took = time.monotonic() - sent
        # Compared with a time credgated gave on the wall clock, so read on the wall clock.
        self.assertLess(time.time(), calendar.timegm(time.strptime(next_retry, "%Y-%m-%dT%H:%M:%SZ")),
                        "credgated must revoke at shutdown, not wait for its next retry")
        self.assertLess(took, 10)
        self.assertTrue(self.token_is_gone(old_accessor), "the token whose revocation failed is revoked at shutdown")
        self.assertTrue(self.token_is_gone(current_accessor), "and so is the current one")
        self.assertEqual(self.dv.models(current_key)[0], 401, "with the key it read")
        self.assertRegex(node.log_text(), re.escape(f"revoked the login token (accessor '{old_accessor}'"))

    def test_sigterm_with_vault_sealed_names_the_tokens_it_could_not_revoke(self):
        node = self.seed_node()
        doc = self.wait_state(node, "OK")
        lease = doc["status"]["lease"]["id"]
        accessor = self.accessor_of(node, lease)
        self.dv.root_call("PUT", "sys/seal")
        sent = time.monotonic()
        self.assertEqual(node.stop(timeout=30), 0)
        self.assertGreater(time.monotonic() - sent, 10, "shutdown keeps retrying until its deadline")
        log = node.log_text()
        line = [ln for ln in log.splitlines() if "within the 15 s shutdown deadline" in ln]
        self.assertEqual(len(line), 1, log)
        self.assertIn(f"accessor '{accessor}'", line[0])
        self.assertIn(f"lease '{lease}'", line[0])
        self.assertIn("valid until", line[0])
        self.assertIn("sealed", line[0])
        self.assertNotIn("hvs.", log)
        self.dv.root_call("PUT", "sys/unseal", {"key": "any"})
        self.assertEqual(self.dv.lookup_accessor(accessor)[0], 200, "the token was indeed left alive")


if __name__ == "__main__":
    unittest.main(verbosity=2)
