#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Secret rotation with a short lease: the next key arrives before the old lease ends, the old key is
# refused after the grace period, and a reader looping on the file never sees a partial or missing file.
import json
import threading
import time
import unittest

from harness import IntegrationCase

LEASE_S = 12
GRACE_S = 2


class Rotation(IntegrationCase):
    def test_new_key_before_expiry_old_key_refused_after_grace_reader_never_breaks(self):
        node = self.seed_node(ttl=f"{LEASE_S}s", refresh={"minLead": "2s", "revokeGrace": f"{GRACE_S}s"})
        first = self.wait_state(node, "OK")
        first_expiry = time.monotonic() + first["status"]["expiresInSeconds"]
        path = node.file_path()
        old = self.read_secret(node)

        problems = []
        reads = [0]
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                try:
                    with open(path) as f:
                        data = json.load(f)
                    if "api_key" not in data:
                        problems.append(f"no api_key: {data}")
                    reads[0] += 1
                except FileNotFoundError:
                    problems.append("file missing")
                except ValueError as e:
                    problems.append(f"partial file: {e}")

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            new = self.wait_until(lambda: (s := self.read_secret(node))["api_key"] != old["api_key"] and s,
                                  LEASE_S + 5, "a new key to be delivered", interval=0.05)
            rotated_at = time.monotonic()
            self.assertLess(rotated_at, first_expiry, "the new key must arrive before the old lease ends")
            self.assertEqual(self.dv.models(new["api_key"])[0], 200)
            self.wait_until(lambda: self.dv.models(old["api_key"])[0] == 401, GRACE_S + 4,
                            "the old key to be revoked after the grace period")
            self.assertGreaterEqual(time.monotonic() - rotated_at, GRACE_S - 0.5,
                                    "the old key must live through the grace")
            self.assertEqual(self.dv.models(new["api_key"])[0], 200)
        finally:
            stop.set()
            t.join()
        self.assertEqual(problems[:5], [], f"{len(problems)} bad reads out of {reads[0]}")
        self.assertGreater(reads[0], 100)
        self.assertEqual(node.binding()["status"]["state"], "OK")
        # Vault answers revoke-self after revoking, so credgated may count the token a moment longer.
        self.wait_until(lambda: node.binding()["status"]["counters"]["tokensHeld"] == 1, 3,
                        "credgated to drop the superseded token")


if __name__ == "__main__":
    unittest.main(verbosity=2)
