#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# `credgatectl rotate`: a fresh secret now, exactly as a scheduled rotation (a new login, a new secret
# delivered, the previous token revoked after revokeGrace), checked against devvault's own state; an
# unknown binding, a BLOCKED one and a failing Vault each say why, with their exit code.
import json
import time
import unittest

from harness import IntegrationCase, seed_policy

BINDING = "vault-openai-apikeys-binding"
GRACE_S = 3


class Rotate(IntegrationCase):
    def token_alive(self, accessor):
        return self.dv.lookup_accessor(accessor)[0] == 200

    def test_a_rotation_logs_in_delivers_a_new_secret_and_revokes_the_old_token_after_the_grace(self):
        node = self.seed_node(ttl="15m", refresh={"revokeGrace": f"{GRACE_S}s"})
        first = self.wait_state(node, "OK")
        old_key = self.read_secret(node)["api_key"]
        old_lease = first["status"]["lease"]["id"]
        old_accessor = self.accessor_of(node, old_lease)
        logins = self.dv.count("auth/jwt/login")
        revocations = self.dv.count("auth/token/revoke-self")
        time.sleep(1.1)  # expiresAt has whole seconds: the new one must differ

        r = node.ctl("rotate", BINDING, "-o", "json")
        rotated_at = time.monotonic()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        record = json.loads(r.stdout)
        self.assertEqual(record["kind"], "CredentialBinding")
        self.assertEqual(record["status"]["state"], "OK")
        new_lease = record["status"]["lease"]["id"]
        self.assertNotEqual(new_lease, old_lease)
        self.assertNotEqual(record["status"]["expiresAt"], first["status"]["expiresAt"])
        self.assertGreater(record["status"]["expiresInSeconds"], 14 * 60)

        # The file holds the new key at once, and devvault saw exactly one more login.
        new_key = self.read_secret(node)["api_key"]
        self.assertNotEqual(new_key, old_key)
        self.assertEqual(self.dv.count("auth/jwt/login"), logins + 1)
        self.assertEqual(self.dv.models(new_key)[0], 200)
        new_accessor = self.accessor_of(node, new_lease)
        self.assertNotEqual(new_accessor, old_accessor)

        # The old token and key live through the grace period, then Vault revokes them.
        self.assertTrue(self.token_alive(old_accessor), "the old token must outlive the rotation by revokeGrace")
        self.assertEqual(self.dv.models(old_key)[0], 200)
        self.wait_until(lambda: not self.token_alive(old_accessor), GRACE_S + 5, "the old token to be revoked")
        self.assertGreaterEqual(time.monotonic() - rotated_at, GRACE_S - 0.5, "revoked before revokeGrace was over")
        self.assertEqual(self.dv.count("auth/token/revoke-self"), revocations + 1)
        self.assertEqual(self.dv.models(old_key)[0], 401)
        self.assertTrue(self.token_alive(new_accessor), "the new token is left alone")

        # Status shows the new expiry.
        doc = node.binding()
        self.assertEqual(doc["status"]["lease"]["id"], new_lease)
        self.assertEqual(doc["status"]["expiresAt"], record["status"]["expiresAt"])
        self.assertIn("rotating on request", node.log_text())

    def test_the_default_output_is_one_line_and_yaml_is_the_record(self):
        node = self.seed_node(refresh={"revokeGrace": "2s"})
        self.wait_state(node, "OK")
        r = node.ctl("rotate", BINDING)
        self.assertEqual(r.returncode, 0, r.stderr)
        lease = node.binding()["status"]["lease"]["id"]
        self.assertEqual(r.stdout.count("\n"), 1, r.stdout)
        self.assertIn(f"rotated '{BINDING}': a new secret is delivered (lease '{lease}', expires at ", r.stdout)
        self.assertIn("revoked after revokeGrace (2s)", r.stdout)
        y = node.ctl("rotate", BINDING, "-o", "yaml")
        self.assertEqual(y.returncode, 0, y.stderr)
        self.assertIn("kind: CredentialBinding", y.stdout)
        self.assertIn(f"name: {BINDING}", y.stdout)
        self.assertIn(f"id: {node.binding()['status']['lease']['id']}", y.stdout)

    def test_an_unknown_binding_is_named_and_exits_2(self):
        node = self.seed_node()
        self.wait_state(node, "OK")
        logins = self.dv.count("auth/jwt/login")
        r = node.ctl("rotate", "no-such-binding")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("credgated has no binding named 'no-such-binding'", r.stderr)
        # A name no policy can give is a usage error, not a request for part of it.
        for args in (["rotate", "no-such?x"], ["get", "binding", "No/such"]):
            r = node.ctl(*args)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn(f"binding name '{args[-1]}' contains", r.stderr)
        self.assertEqual(self.dv.count("auth/jwt/login"), logins)

    def test_a_blocked_binding_says_why_and_exits_4(self):
        node = self.seed_node(insecure=True)
        # Delivered by credgate.ko, which this host does not have loaded: the binding is BLOCKED.
        policy = seed_policy(self.dv.vault)
        node.write_policy(policy.replace("propagation:\n    file: {}", "propagation:\n    sysfs: {}"))
        self.assertEqual(node.ctl("reload").returncode, 0)
        self.wait_state(node, "BLOCKED")
        logins = self.dv.count("auth/jwt/login")
        r = node.ctl("rotate", BINDING)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertIn(f"binding '{BINDING}' is BLOCKED: ", r.stderr)
        self.assertIn("modprobe credgate", r.stderr)
        self.assertEqual(self.dv.count("auth/jwt/login"), logins, "a blocked binding must not log in")

    def test_a_failed_rotation_says_why_exits_1_and_keeps_the_current_secret(self):
        node = self.seed_node()
        self.wait_state(node, "OK")
        key = self.read_secret(node)["api_key"]
        self.dv.faults(fail_status=503, fail_rate=1.0, paths=["auth/jwt/login"])
        r = node.ctl("rotate", BINDING, "-o", "json")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn(f"binding '{BINDING}' could not fetch a new secret: login: ", r.stderr)
        self.assertIn("HTTP 503", r.stderr)
        self.assertEqual(self.read_secret(node)["api_key"], key, "the current secret stays delivered")
        self.assertEqual(node.binding()["status"]["state"], "RETRYING")
        self.dv.faults()
        self.wait_state(node, "OK", timeout=10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
