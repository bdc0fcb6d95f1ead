#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The credential file system full: a new secret cannot be written. The delivered secret stays as it
# was (a file is replaced whole or not at all), `credgatectl status` names the cause, the attempts back
# off with a bounded number of requests to Vault and no token is left behind for each, and freeing the
# space delivers a fresh secret.
import errno
import os
import subprocess
import time
import unittest

from harness import IntegrationCase, configure_seed, seed_policy, skip_or_fail

BINDING = "vault-openai-apikeys-binding"


class DeliveryFaults(IntegrationCase):
    def test_a_full_credential_file_system_keeps_the_old_secret_explains_and_recovers(self):
        if os.geteuid() != 0:
            skip_or_fail("mounting a small tmpfs at the delivery root needs root")
        node = self.credgated("")
        os.makedirs(node.root)
        # A small tmpfs at the delivery root, which credgated adopts, so that it can be filled.
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=711", "credgate-test", node.root], check=True)
        node.start()
        self.assertIn("adopted a tmpfs", node.log_text())
        configure_seed(self.dv, {"oidc_discovery_url": node.issuer})
        node.write_policy(seed_policy(self.dv.vault, refresh={"revokeGrace": "1s"}))
        self.assertEqual(node.ctl("reload").returncode, 0)
        self.wait_state(node, "OK")
        path = node.file_path()
        with open(path) as f:
            first = f.read()

        filler = os.path.join(node.root, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)
        r = node.ctl("rotate", BINDING)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("No space left on device", r.stdout + r.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), first, "the delivered secret is untouched")
        row = [line for line in node.ctl("status").stdout.splitlines() if line.startswith(BINDING)][0]
        self.assertIn("No space left on device", row)
        self.assertIn(path, row, "the file still delivered is listed")
        self.dv.reset_stats()
        time.sleep(6)
        logins = self.dv.count("auth/jwt/login")
        self.assertLessEqual(logins, 4, f"{logins} logins in 6 s")
        # A secret that could not be delivered does not keep its token: at most the delivered secret's
        # token, one attempt's in flight, and one superseded within its revokeGrace stay alive.
        self.assertLessEqual(self.dv.stats()["live_tokens"], 3, self.dv.stats())
        with open(path) as f:
            self.assertEqual(f.read(), first)

        os.unlink(filler)
        doc = self.wait_until(lambda: (lambda d: d["status"]["state"] == "OK" and not d["status"].get("lastError", {})
                                       .get("resolvedAt") is None and d)(node.binding()), 20,
                              "a fresh secret once space is free")
        with open(path) as f:
            self.assertNotEqual(f.read(), first)
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)
        self.assertIn("resolvedAt", doc["status"]["lastError"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
