#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Time going wrong under credgated: the host suspended (credgated stopped past its secret's lease end,
# then continued), and the wall clock stepping forward and back by an hour (NTP) while Vault's clock
# stays right. On waking or on a step credgated notices, says so in its log and in `credgatectl status`,
# fetches afresh, and never serves a key past the end of its lease; the requests to Vault stay bounded.
# The clock steps are credgated's alone, through libfaketime (Debian's faketime package): its wall
# clock moves, its monotonic clock and everyone else's clocks do not.
import json
import os
import signal
import time
import unittest

from harness import IntegrationCase, skip_or_fail

BINDING = "vault-openai-apikeys-binding"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


class ClockFaults(IntegrationCase):
    def current_key(self, path):
        try:
            with open(path) as f:
                return json.load(f)["api_key"]
        except (FileNotFoundError, ValueError):
            return None

    def status_text(self, node):
        r = node.ctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_stopped_past_the_lease_end_it_wakes_removes_the_dead_key_and_fetches_a_new_one(self):
        node = self.seed_node(ttl="8s", refresh={"minLead": "2s", "revokeGrace": "1s"})
        self.wait_state(node, "OK")
        path = node.file_path()
        key1 = self.current_key(path)
        self.assertEqual(self.dv.models(key1)[0], 200)
        node.signal(signal.SIGSTOP)
        try:
            # Past the lease's end: Vault revokes the lease and the key with it.
            self.wait_until(lambda: self.dv.models(key1)[0] == 401, 20, "the first key's lease to end in Vault")
            time.sleep(1)
            self.dv.reset_stats()
        finally:
            node.signal(signal.SIGCONT)
        woke = time.monotonic()
        seen_after_wake = []
        fresh = None
        while time.monotonic() - woke < 10:
            key = self.current_key(path)
            seen_after_wake.append((time.monotonic() - woke, key))
            if key and key != key1:
                fresh = key
                break
            time.sleep(0.02)
        self.assertIsNotNone(fresh, f"no fresh key within 10 s of waking: {seen_after_wake[-5:]}")
        stale = [t for t, k in seen_after_wake if k == key1]
        self.assertLess(max(stale, default=0.0), 1.0, "the dead key was gone within a second of waking")
        self.assertEqual(self.dv.models(fresh)[0], 200)
        self.wait_state(node, "OK")
        log = node.log_text()
        self.assertRegex(log, r"credgated did not run for \d+ s \(stopped, or starved of CPU\)")
        self.assertIn("clock: credgated did not run for", self.status_text(node))
        # Bounded: the wake costs a login or two and a read or two, not a burst.
        self.assertLessEqual(self.dv.count("auth/jwt/login"), 3)
        self.assertLessEqual(self.dv.count("openai/creds/my-role"), 3)

    def test_a_pause_that_no_lease_noticed_costs_vault_nothing(self):
        # A busy host can starve credgated for seconds (a package build, a VM's host under load): that is
        # logged and shown, and a secret whose lease is far from its end is not fetched again.
        node = self.seed_node(ttl="120s")
        self.wait_state(node, "OK")
        key1 = self.current_key(node.file_path())
        self.dv.reset_stats()
        node.signal(signal.SIGSTOP)
        try:
            time.sleep(4)
        finally:
            node.signal(signal.SIGCONT)
        self.wait_until(lambda: "credgated did not run for" in node.log_text(), 10, "the pause to be noticed")
        self.assertIn("the timers that came due meanwhile run now", self.status_text(node))
        time.sleep(2)
        self.assertEqual(self.current_key(node.file_path()), key1)
        self.assertEqual(self.dv.count("auth/jwt/login"), 0)
        self.assertEqual(self.dv.count("openai/creds/my-role"), 0)
        self.assertEqual(node.binding()["status"]["state"], "OK")

    def faketime_node(self, ttl):
        if not os.path.exists(FAKETIME_LIB):
            skip_or_fail(f"{FAKETIME_LIB} is missing (Debian package faketime)")
        offset_file = os.path.join(self.tmp, "faketime-offset")
        with open(offset_file, "w") as f:
            f.write("+0s\n")
        env = dict(os.environ, LD_PRELOAD=FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE=offset_file, FAKETIME_NO_CACHE="1",
                   FAKETIME_DONT_FAKE_MONOTONIC="1",
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        node = self.seed_node(ttl=ttl, env=env)
        return node, offset_file

    def step(self, offset_file, offset):
        with open(offset_file + ".tmp", "w") as f:
            f.write(offset + "\n")
        os.rename(offset_file + ".tmp", offset_file)

    def step_and_back(self, offset, refused_message):
        node, offset_file = self.faketime_node(ttl="25s")
        doc = self.wait_state(node, "OK")
        path = node.file_path()
        key1 = self.current_key(path)
        delivered = time.monotonic()
        self.assertIn(time.strftime("%Y-%m-%d", time.gmtime()), doc["status"]["expiresAt"])
        self.dv.reset_stats()
        self.step(offset_file, offset)
        # Noticed within a few seconds; the fresh login's JWT is then refused by Vault, whose clock is right.
        self.wait_until(lambda: "the wall clock stepped" in node.log_text(), 10, "the step to be noticed")
        err = self.wait_until(lambda: node.binding()["status"].get("lastError"), 10, "the refused login")
        self.assertEqual(err["operation"], "login")
        self.assertIn(refused_message, err["vaultMessage"])
        text = self.status_text(node)
        self.assertRegex(text, r"clock: the wall clock stepped (forward|back) by 3600 s")
        self.assertIn("the JWT's validity window does not match Vault's clock; check time synchronisation", text)
        # The first key stays while its lease runs (Vault's clock decides), and is gone right after.
        while time.monotonic() - delivered < 24:
            key = self.current_key(path)
            if key is not None:
                self.assertEqual(key, key1)
                self.assertEqual(self.dv.models(key)[0], 200, "a served key is alive in Vault")
            time.sleep(0.5)
        self.wait_until(lambda: self.current_key(path) is None, 5, "the first key to be removed at its lease end")
        self.assertEqual(node.binding()["status"]["state"], "EXPIRED")
        # Retries back off: a bounded number of logins while the clock is wrong.
        self.assertLessEqual(self.dv.count("auth/jwt/login"), 8, "logins while the clock was wrong")
        self.assertEqual(self.dv.count("openai/creds/my-role"), 0)
        # NTP corrects the clock: noticed, a fresh secret at once.
        self.step(offset_file, "+0s")
        self.wait_until(lambda: node.log_text().count("the wall clock stepped") >= 2, 10, "the correction")
        self.wait_state(node, "OK", timeout=20)
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)

    def test_the_wall_clock_stepping_forward_an_hour_and_back(self):
        self.step_and_back("+3600s", "token not yet valid")

    def test_the_wall_clock_stepping_back_an_hour_and_forward(self):
        self.step_and_back("-3600s", "token is expired")


if __name__ == "__main__":
    unittest.main(verbosity=2)
