#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Handover (`credgatectl handover`, as the package's postinst runs it before a restart): the next
# SIGTERM within the window leaves the credential file and the current token valid for the next
# credgated, which publishes over the same file; a SIGTERM without one, or the one after it, revokes.
# (The window's end, 120 s, is unit-tested with a manual clock: tests/unit/daemon/handover_window_test.cpp.)
import json
import os
import re
import unittest

from harness import IntegrationCase

BINDING = "vault-openai-apikeys-binding"


class Handover(IntegrationCase):
    def delivered(self, node):
        """(secret, path, lease id, token accessor) of the binding's delivered secret."""
        doc = self.wait_state(node, "OK")
        lease = doc["status"]["lease"]["id"]
        return self.read_secret(node), node.file_path(), lease, self.accessor_of(node, lease)

    def read_secret(self, node, name=BINDING, path=None):
        """The delivered secret; from `path` when credgated is not running to say where it is."""
        if path is None:
            return super().read_secret(node, name)
        with open(path) as f:
            return json.load(f)

    def assert_revoked_at_stop(self, node, secret, path, accessor):
        self.assertEqual(node.stop(), 0)
        self.assertFalse(os.path.exists(path), "a stop without a handover removes the file")
        status, body = self.dv.lookup_accessor(accessor)
        self.assertEqual((status, "invalid accessor" in body), (400, True), "a stop without a handover revokes the token")
        self.assertEqual(self.dv.models(secret["api_key"])[0], 401, "and with it the key")
        self.assertIn("Stopping: revoking every token", node.log_text())

    def test_a_stop_after_handover_keeps_file_and_token_and_the_next_credgated_publishes_over_them(self):
        node = self.seed_node()
        secret, path, lease, accessor = self.delivered(node)
        revocations = self.dv.count("auth/token/revoke-self", "POST")

        r = node.ctl("handover")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("handover armed: no kernel enforcement, so no executable to register", r.stdout)
        self.assertRegex(r.stdout, r"stops before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
        status, doc = node.api("POST", "/v1/handover")  # armed again: a fresh window
        self.assertEqual((status, doc["ok"], doc["windowSeconds"], doc["errors"]), (200, True, 120, []))

        self.assertEqual(node.stop(), 0)
        log = node.log_text()
        self.assertIn("Stopping for a handover", log)
        kept = [l for l in log.splitlines() if f"Handing over binding '{BINDING}'" in l]
        self.assertEqual(len(kept), 1, log)
        self.assertIn(f"its file '{path}'", kept[0])
        self.assertRegex(kept[0], re.escape(f"(accessor '{accessor}', lease '{lease}', expires at ") + r"\d{4}-")
        self.assertNotIn(secret["api_key"], log)
        self.assertEqual(self.read_secret(node, path=path), secret, "the file stays as it was")
        self.assertEqual(self.dv.lookup_accessor(accessor)[0], 200, "the token is left valid")
        self.assertEqual(self.dv.models(secret["api_key"])[0], 200, "and the key it read")
        self.assertEqual(self.dv.count("auth/token/revoke-self", "POST"), revocations, "nothing was revoked")

        # What no binding publishes any more, and a temp file of an interrupted publish, go at the next start.
        stale_dir = os.path.join(os.path.dirname(os.path.dirname(path)), "crb-gone-binding")
        os.makedirs(stale_dir)
        stale = os.path.join(stale_dir, "vault.json")
        with open(stale, "w") as f:
            f.write('{"api_key": "not-a-secret"}\n')
        temp = os.path.join(os.path.dirname(path), ".tmp-vault.json-1-1")
        with open(temp, "w") as f:
            f.write("{")

        # The next credgated fetches at start and publishes over the same file, atomically.
        node.start()
        new_secret, new_path, new_lease, new_accessor = self.wait_until(
            lambda: (d := self.delivered(node))[2] != lease and d, 15, "a new secret from the next credgated")
        self.assertEqual(new_path, path)
        self.assertNotEqual(new_secret, secret)
        self.assertEqual(sorted(os.listdir(os.path.dirname(path))), [os.path.basename(path)],
                         "only the credential file is left in its directory (no temp file)")
        self.assertEqual(self.dv.models(new_secret["api_key"])[0], 200)
        log = node.log_text()
        self.assertIn(f"Kept '{path}' from the previous credgated (without kernel enforcement)", log)
        self.assertIn(f"Removed '{stale}' left by a previous credgated: no binding publishes it", log)
        self.assertIn(f"Removed '{temp}' left by a previous credgated: no binding publishes it", log)
        self.assertFalse(os.path.exists(stale_dir), "the directory of a binding that is gone goes with its file")
        # The window was used by the previous stop: this SIGTERM revokes again.
        self.assert_revoked_at_stop(node, new_secret, path, new_accessor)

    def test_a_stop_without_handover_revokes(self):
        node = self.seed_node()
        secret, path, _, accessor = self.delivered(node)
        self.assert_revoked_at_stop(node, secret, path, accessor)
        self.assertNotIn("handover", node.log_text())

    def test_handover_with_no_credgated_running_says_so_and_exits_3(self):
        node = self.credgated("")
        r = node.ctl("handover")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("credgatectl handover:", r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
