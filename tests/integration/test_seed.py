#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The seed scenario end to end: devvault set up like the operator's `bao` steps, credgated with the
# example-shaped policy delivers vault.json, the key works, and the CLI shows where it is.
import json
import os
import shutil
import stat
import subprocess
import unittest

from harness import CREDGATECTL, SOURCE_ROOT, SPIFFE_ID, IntegrationCase, configure_seed, seed_policy


class SeedScenario(IntegrationCase):
    def test_delivers_a_working_openai_key_and_shows_its_path(self):
        node = self.seed_node()
        doc = self.wait_state(node, "OK")
        path = doc["status"]["file"]["files"][0]["path"]
        self.assertEqual(doc["status"]["spiffeID"], SPIFFE_ID)
        self.assertTrue(path.endswith("/crb-vault-openai-apikeys-binding/vault.json"), path)
        self.assertRegex(path, r"/[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/crb-")

        secret = self.read_secret(node)
        self.assertEqual(sorted(secret), ["api_key", "api_key_id", "service_account", "service_account_id"])
        self.assertTrue(secret["api_key"].startswith("sk-svcacct-"))
        self.assertTrue(secret["service_account"].startswith("vault-my-role-"))
        status, body = self.dv.models(secret["api_key"])
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["object"], "list")

        st = node.ctl("status")
        self.assertEqual(st.returncode, 0, st.stderr)
        for column in ("BINDING", "SPIFFE ID", "SOURCE", "STATE", "FILE", "EXPIRES IN", "LAST ERROR"):
            self.assertIn(column, st.stdout)
        self.assertIn(path, st.stdout)
        self.assertIn(SPIFFE_ID, st.stdout)
        self.assertIn("OK", st.stdout)

        y = node.ctl("get", "binding", "vault-openai-apikeys-binding", "-o", "yaml")
        self.assertEqual(y.returncode, 0, y.stderr)
        self.assertIn("apiVersion: credgate.io/v1alpha1", y.stdout)
        self.assertIn("kind: CredentialBinding", y.stdout)
        self.assertIn(f"path: {path}", y.stdout)
        self.assertIn("type: CREDENTIAL", y.stdout)
        self.assertIn("state: OK", y.stdout)
        j = node.ctl("get", "binding", "vault-openai-apikeys-binding", "-o", "json")
        self.assertEqual(j.returncode, 0, j.stderr)
        self.assertEqual(json.loads(j.stdout)["status"]["file"]["files"][0]["path"], path)

        missing = node.ctl("get", "binding", "no-such-binding")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no-such-binding", missing.stderr)

        iss = node.ctl("issuer")
        self.assertEqual(iss.returncode, 0, iss.stderr)
        self.assertIn("bao auth enable jwt", iss.stdout)
        self.assertIn(f'oidc_discovery_url="{node.issuer}"', iss.stdout)
        self.assertIn(f'bound_subject="{SPIFFE_ID}"', iss.stdout)
        self.assertIn("role_type=jwt", iss.stdout)
        self.assertIn("token_num_uses=0", iss.stdout)
        # A short token: the 15m lease plus the 30s revoke grace, rounded up to a minute, and why.
        self.assertIn("token_ttl=16m token_max_ttl=16m", iss.stdout)
        self.assertIn("# token_ttl=16m: the secret's lease (15m) plus the revoke grace (30s): the key dies with its "
                      "token, so not shorter; a leaked token should not outlive its use, so not longer.", iss.stdout)

        metrics = node.metrics()
        self.assertIn('credgate_bindings{state="OK"} 1', metrics)
        self.assertIn('credgate_publishes_total{binding="vault-openai-apikeys-binding"} 1', metrics)
        self.assertIn('credgate_enforcement_mode{mode="insecure"} 1', metrics)
        self.assertNotIn(secret["api_key"], metrics)

        log = node.log_text()
        self.assertNotIn(secret["api_key"], log, "the key must never be logged")
        self.assertNotIn("eyJ", log, "no JWT (or any base64url JSON) may be logged")
        self.assertNotIn("hvs.", log, "no Vault token may be logged")
        self.assertEqual(node.stop(), 0)

    def test_refuses_to_publish_without_enforcement_and_says_how_to_enable_it(self):
        node = self.seed_node(insecure=False)
        doc = node.binding()
        self.assertEqual(doc["status"]["state"], "BLOCKED")
        self.assertIn("lsm=", doc["status"]["message"])
        self.assertIn("--insecure-no-enforcement", doc["status"]["message"])
        self.assertEqual(self.dv.count("auth/jwt/login"), 0, "a blocked binding must not even log in")
        st = node.ctl("status")
        self.assertIn("BLOCKED", st.stdout)
        iss = node.ctl("issuer")
        self.assertIn("token_ttl=1h token_max_ttl=1h", iss.stdout)
        self.assertIn("no secret read yet, so 1h is assumed; run credgatectl issuer again after the first read",
                      iss.stdout)
        self.assertEqual(node.stop(), 0)

    def test_credgatectl_refuses_to_work_for_a_non_root_user(self):
        if os.geteuid() != 0:
            self.skipTest("switching to another user needs root")
        node = self.seed_node()
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            self.skipTest("setpriv (util-linux) is not installed")
        # Let the other user reach the socket file itself: only its mode (0600) and credgated stand in the way.
        for d in (self.tmp, node.dir, os.path.dirname(node.socket)):
            os.chmod(d, 0o755)
        r = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", CREDGATECTL, "status",
                            "--socket", node.socket], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("permission denied", r.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(node.socket).st_mode), 0o600)

    def test_the_shipped_example_without_the_module_is_blocked_naming_the_command_that_loads_it(self):
        # This host cannot load credgate.ko (the VM suite runs the example with it: vm seed_sysfs).
        if os.path.isdir("/sys/module/credgate/credentials"):
            self.skipTest("credgate.ko is loaded on this host")
        with open(os.path.join(SOURCE_ROOT, "policies", "examples", "ai-agent-openai.yaml")) as f:
            example = f.read().replace("http://localhost:8200", self.dv.vault)
        node = self.credgated(example)
        node.start()
        doc = node.binding()
        self.assertEqual(doc["status"]["state"], "BLOCKED")
        self.assertIn("the credgate kernel module is not loaded", doc["status"]["message"])
        self.assertIn("'modprobe credgate'", doc["status"]["message"])
        self.assertIn("propagation: {file: {}}", doc["status"]["message"])
        self.assertEqual(doc["status"]["sysfs"]["files"], [])
        self.assertIn("sysfs", doc["status"])
        self.assertEqual(self.dv.count("auth/jwt/login"), 0)

    def test_credgatectl_explains_a_missing_socket(self):
        node = self.credgated(self.policy())
        r = node.ctl("status")
        self.assertEqual(r.returncode, 3)
        self.assertIn("credgated is not running or the control socket", r.stderr)
        self.assertIn(node.socket, r.stderr)

    def policy(self):
        return seed_policy(self.dv.vault)


if __name__ == "__main__":
    unittest.main(verbosity=2)
