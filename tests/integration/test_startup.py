#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Startup and systemd integration: a broken policy refuses to start with every diagnostic printed;
# READY=1 after the first load, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM.
import os
import socket
import subprocess
import time
import unittest

from harness import CREDGATED, IntegrationCase, seed_policy


class Startup(IntegrationCase):
    def test_a_broken_policy_prints_every_error_and_exits_1(self):
        broken = seed_policy(self.dv.vault).replace("workloadID: ai-agent\n  credentialSource",
                                                    "workloadID: nobody\n  credentialSource")
        broken = broken.replace("audience: [vault]", "audience: [vault]\n    colour: blue")
        node = self.credgated(broken)
        r = subprocess.run([CREDGATED, "--config", node.config, "--insecure-no-enforcement"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("seed.yaml:", r.stderr)
        self.assertIn("colour", r.stderr)
        self.assertIn("nobody", r.stderr)
        self.assertIn("Failed to load the policies in", r.stderr)
        self.assertFalse(os.path.exists(node.socket), "nothing may be left running or listening")

    def test_notifies_systemd_ready_watchdog_and_stopping(self):
        node = self.credgated(seed_policy(self.dv.vault))
        path = os.path.join(self.tmp, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        os.environ["NOTIFY_SOCKET"] = path
        os.environ["WATCHDOG_USEC"] = "400000"
        try:
            node.start()
        finally:
            del os.environ["NOTIFY_SOCKET"]
            del os.environ["WATCHDOG_USEC"]
        messages = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                messages.append(sock.recv(4096).decode())
            except socket.timeout:
                pass
        self.assertTrue(messages and messages[0].startswith("READY=1"), messages)
        watchdogs = sum(1 for m in messages if m == "WATCHDOG=1")
        self.assertGreaterEqual(watchdogs, 6, f"WATCHDOG=1 every 200 ms: {messages}")
        self.assertLessEqual(watchdogs, 14, messages)
        self.assertEqual(node.stop(), 0)
        rest = []
        try:
            while True:
                rest.append(sock.recv(4096).decode())
        except socket.timeout:
            pass
        self.assertTrue(any(m.startswith("STOPPING=1") for m in rest), rest)


if __name__ == "__main__":
    unittest.main(verbosity=2)
