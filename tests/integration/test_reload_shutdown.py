#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Reload and shutdown: a broken policy changes nothing, an unchanged binding keeps running, a
# removed binding's file goes and its key is revoked, SIGTERM revokes every key and exits 0.
import os
import signal
import unittest

from harness import IntegrationCase, seed_policy


class ReloadAndShutdown(IntegrationCase):
    def test_broken_policy_changes_nothing_and_is_reported(self):
        node = self.seed_node()
        before = self.wait_state(node, "OK")
        secret = self.read_secret(node)
        logins = self.dv.count("auth/jwt/login")

        node.write_policy(seed_policy(self.dv.vault).replace("credentialSource: vault-openai-apikeys",
                                                             "credentialSource: no-such-source"))
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("seed.yaml:", r.stderr)
        self.assertIn("no-such-source", r.stderr)
        self.assertIn("unchanged", r.stderr)

        refusals = node.log_text().count("nothing changed")
        node.signal(signal.SIGHUP)  # the same through the signal: logged, nothing changes
        self.wait_until(lambda: node.log_text().count("nothing changed") > refusals, 10,
                        "the reload SIGHUP asked for to be refused")
        after = node.binding()
        self.assertEqual(after["status"]["state"], "OK")
        self.assertEqual(after["status"]["lease"]["id"], before["status"]["lease"]["id"])
        self.assertEqual(self.read_secret(node), secret)
        self.assertEqual(self.dv.count("auth/jwt/login"), logins, "a refused reload must not restart anything")
        st = node.ctl("status")
        self.assertIn("last reload FAILED", st.stdout)

    def test_a_broken_settings_file_fails_the_reload_and_a_changed_one_asks_for_a_restart(self):
        node = self.seed_node()
        before = self.wait_state(node, "OK")
        with open(node.config) as f:
            good = f.read()
        with open(node.config, "w") as f:
            f.write(good + "surprise: 1\n")
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("credgate.yaml", r.stderr)
        self.assertIn("surprise", r.stderr)
        with open(node.config, "w") as f:
            f.write(good.replace("node: test-node", "node: renamed-node"))
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("restarts", r.stderr)
        self.assertEqual(node.binding()["status"]["lease"]["id"], before["status"]["lease"]["id"])

    def test_unchanged_binding_keeps_running_and_a_removed_one_is_revoked(self):
        node = self.seed_node()
        first = self.wait_state(node, "OK")
        secret = self.read_secret(node)
        path = node.file_path()
        logins = self.dv.count("auth/jwt/login")

        # A second binding appears; the first one is untouched.
        node.write_policy(seed_policy(self.dv.vault, name="second-binding").split("---\napiVersion: credgate.io/v1alpha1\nkind: CredentialBinding")[1]
                          .join(["---\napiVersion: credgate.io/v1alpha1\nkind: CredentialBinding", ""]), name="second.yaml")
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("started: second-binding", r.stdout)
        self.assertIn("unchanged: vault-openai-apikeys-binding", r.stdout)
        self.wait_state(node, "OK", name="second-binding")
        self.assertEqual(node.binding()["status"]["lease"]["id"], first["status"]["lease"]["id"])
        self.assertEqual(self.dv.count("auth/jwt/login"), logins + 1, "only the new binding logs in")
        second_secret = self.read_secret(node, "second-binding")
        self.assertEqual(self.dv.models(second_secret["api_key"])[0], 200)

        # The first binding is removed: its file goes and its key is refused.
        os.unlink(os.path.join(node.policies, "seed.yaml"))
        node.write_policy(seed_policy(self.dv.vault, name="second-binding"), name="second.yaml")
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("stopped: vault-openai-apikeys-binding", r.stdout)
        self.assertIn("unchanged: second-binding", r.stdout)
        self.assertFalse(os.path.exists(path), "a removed binding's file must be removed")
        self.wait_until(lambda: self.dv.models(secret["api_key"])[0] == 401, 5, "the removed binding's key to be revoked")
        self.assertEqual(self.dv.models(second_secret["api_key"])[0], 200, "the other binding's key keeps working")
        status, _ = node.api("GET", "/v1/bindings/vault-openai-apikeys-binding")
        self.assertEqual(status, 404)

    def test_sigterm_revokes_every_key_removes_files_and_exits_zero(self):
        node = self.seed_node()
        self.wait_state(node, "OK")
        secret = self.read_secret(node)
        path = node.file_path()
        self.assertEqual(self.dv.models(secret["api_key"])[0], 200)
        self.assertEqual(node.stop(), 0)
        self.assertFalse(os.path.exists(path))
        self.assertGreaterEqual(self.dv.count("auth/token/revoke-self", "POST"), 1)
        self.assertEqual(self.dv.models(secret["api_key"])[0], 401, "the key must be revoked at shutdown")
        self.assertFalse(os.path.exists(node.socket), "the control socket is removed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
