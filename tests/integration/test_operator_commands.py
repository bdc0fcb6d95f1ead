#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# `credgatectl identities` and `credgatectl explain` against a real credgated and real processes: a
# bound program run by its identity's uid matches; the same program run by root runs the program but
# misses process:uid, and both commands name that key. Also their exit codes, and `audit` without a
# kernel (credgated runs --insecure-no-enforcement here; tests/vm/operator_audit.sh has the kernel).
import json
import os
import shutil
import subprocess
import time
import unittest

from harness import CREDGATECTL, SPIFFE_ID, IntegrationCase, seed_policy, skip_or_fail

BINDING = "vault-openai-apikeys-binding"
NOBODY = 65534


class OperatorCommands(IntegrationCase):
    def setUp(self):
        super().setUp()
        self.setpriv = shutil.which("setpriv")
        # The bound program: a copy of sleep (an ELF file, so /proc/<pid>/exe names it) that nobody may run.
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        self.agent = os.path.join(bindir, "agent")
        shutil.copy("/bin/sleep", self.agent)
        for d in (self.tmp, bindir):
            os.chmod(d, 0o755)
        os.chmod(self.agent, 0o755)
        policy = seed_policy(self.dv.vault).replace(
            "    - process:path: /usr/bin/python3\n      process:uid: 0\n",
            f"    - process:path: {self.agent}\n      process:uid: {NOBODY}\n")
        self.assertIn(self.agent, policy)
        self.node = self.credgated(policy)
        self.node.start()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()
            p.wait()
        super().tearDown()

    def spawn(self, *argv):
        """Starts argv and waits until it runs the agent (its exec is done)."""
        p = subprocess.Popen(list(argv))
        self.procs.append(p)
        self.wait_until(lambda: os.path.realpath(f"/proc/{p.pid}/exe") == self.agent, what=f"pid {p.pid} to run the agent")
        return p.pid

    def test_identities_lists_the_matching_process_and_apart_the_one_that_misses_its_uid(self):
        good = self.spawn(self.setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", self.agent, "300")
        bad = self.spawn(self.agent, "300")

        r = self.node.ctl("identities", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["enforcement"], "insecure")
        self.assertEqual([i["name"] for i in doc["identities"]], ["ai-agent"])
        matches = [m for m in doc["matches"] if m["pid"] == good]
        self.assertEqual(len(matches), 1, doc["matches"])
        m = matches[0]
        self.assertEqual((m["identity"], m["spiffeID"], m["bindings"], m["alternative"]),
                         ("ai-agent", SPIFFE_ID, [BINDING], 1))
        self.assertEqual((m["uid"], m["exe"], m["exeSource"]), (NOBODY, self.agent, "proc"))
        self.assertTrue(m["cgroup"].startswith("/"), m)
        self.assertNotIn(bad, [x["pid"] for x in doc["matches"]])

        misses = [x for x in doc["programMismatches"] if x["pid"] == bad]
        self.assertEqual(len(misses), 1, doc["programMismatches"])
        self.assertEqual(misses[0]["identity"], "ai-agent")
        self.assertEqual([(k["key"], k["wants"], k["has"]) for k in misses[0]["unmatched"]],
                         [("process:uid", [str(NOBODY)], "uid 0")])
        self.assertNotIn(good, [x["pid"] for x in doc["programMismatches"]])

        r = self.node.ctl("identities")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(any(l.split()[:2] == [str(good), str(NOBODY)] and "ai-agent" in l and SPIFFE_ID in l
                            for l in lines), r.stdout)
        after = lines[lines.index("Running a bound program without matching its identity:"):]
        self.assertTrue(any(l.split()[:2] == [str(bad), "0"] and f"process:uid wants {NOBODY}, has uid 0" in l
                            for l in after), r.stdout)
        self.assertIn("note: credgated is not enforcing (insecure)", r.stdout)

        y = self.node.ctl("identities", "-o", "yaml")
        self.assertEqual(y.returncode, 0, y.stderr)
        self.assertIn("programMismatches:", y.stdout)
        self.assertIn(f"- pid: {bad}", y.stdout)

    def test_identities_exits_1_when_no_process_matches(self):
        bad = self.spawn(self.agent, "300")
        r = self.node.ctl("identities")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("(no running process matches an identity)", r.stdout)
        self.assertIn(str(bad), r.stdout)

    def test_explain_allows_the_matching_process_fact_by_fact_and_denies_root_naming_the_uid(self):
        good = self.spawn(self.setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", self.agent, "300")
        bad = self.spawn(self.agent, "300")

        r = self.node.ctl("explain", "--pid", str(good), "--binding", BINDING)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"process {good}: exe {self.agent}", r.stdout)
        self.assertIn(f"binding {BINDING} (identity ai-agent, {SPIFFE_ID}): ALLOWED: alternative 1 matches", r.stdout)
        rows = {l.split()[0]: l for l in r.stdout.splitlines() if l.startswith("    process:")}
        self.assertTrue(rows["process:path"].endswith("match"), rows)
        self.assertIn(self.agent, rows["process:path"])
        self.assertIn(f"uid {NOBODY}", rows["process:uid"])
        self.assertTrue(rows["process:uid"].endswith("match") and "NO MATCH" not in rows["process:uid"], rows)

        doc = json.loads(self.node.ctl("explain", "--pid", str(good), "-o", "json").stdout)
        self.assertTrue(doc["allowed"])
        p = doc["process"]
        self.assertEqual((p["pid"], p["uid"], p["gid"], p["exe"], p["comm"], p["exeSource"]),
                         (good, NOBODY, NOBODY, self.agent, "agent", "proc"))
        st = os.stat(self.agent)
        self.assertTrue(p["exeFile"].endswith(f" #{st.st_ino}"), p)
        self.assertEqual(p["cgroupIDs"][-1], os.stat("/sys/fs/cgroup" + p["cgroup"]).st_ino)
        self.assertTrue(any("/proc/<pid>/exe" in n for n in doc["notes"]), doc["notes"])
        [b] = doc["bindings"]
        self.assertEqual((b["binding"], b["allowed"], b["matchedAlternative"]), (BINDING, True, 1))
        keys = {k["key"]: k for k in b["alternatives"][0]["keys"]}
        self.assertEqual(keys["process:path"]["wants"], [self.agent])
        self.assertTrue(keys["process:path"]["compiledTo"][0].startswith(f"{self.agent} ("), keys)
        self.assertTrue(keys["process:path"]["matched"] and keys["process:uid"]["matched"])
        self.assertEqual(keys["process:uid"]["has"], f"uid {NOBODY}")
        self.assertEqual(keys["process:path"]["has"], f"{self.agent} ({p['exeFile']})")

        r = self.node.ctl("explain", "--pid", str(bad), "--binding", BINDING)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("DENIED: no selector alternative matches (alternative 1: process:uid did not match)", r.stdout)
        rows = {l.split()[0]: l for l in r.stdout.splitlines() if l.startswith("    process:")}
        self.assertTrue(rows["process:uid"].endswith("NO MATCH"), rows)
        self.assertIn("uid 0", rows["process:uid"])
        self.assertFalse(rows["process:path"].endswith("NO MATCH"), rows)

        y = self.node.ctl("explain", "--pid", str(bad), "-o", "yaml")
        self.assertEqual(y.returncode, 1, y.stdout + y.stderr)
        self.assertIn("has: uid 0", y.stdout)

    def test_explain_of_an_unknown_pid_or_binding_exits_2_saying_which(self):
        with open("/proc/sys/kernel/pid_max") as f:
            gone = int(f.read()) - 1
        self.assertFalse(os.path.exists(f"/proc/{gone}"))
        r = self.node.ctl("explain", "--pid", str(gone))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(f"no process with pid {gone} is running", r.stderr)
        r = self.node.ctl("explain", "--pid", str(os.getpid()), "--binding", "no-such-binding")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("credgated has no binding named 'no-such-binding'", r.stderr)
        r = self.node.ctl("explain")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

    def test_audit_without_a_kernel_says_so_and_finds_nothing(self):
        r = self.node.ctl("audit")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("credgated is not enforcing (insecure)", r.stderr)
        r = self.node.ctl("audit", "--binding", "no-such-binding")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        r = self.node.ctl("audit", "--verdict", "maybe")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

    def test_every_control_command_exits_3_when_credgated_cannot_be_asked(self):
        missing = os.path.join(self.tmp, "no-such.sock")
        for argv in (["identities"], ["explain", "--pid", "1"], ["audit"], ["audit", "--follow"], ["status"],
                     ["get", "binding", BINDING], ["issuer"], ["reload"], ["rotate", BINDING]):
            started = time.monotonic()
            r = subprocess.run([CREDGATECTL, *argv, "--socket", missing], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 3, (argv, r.stdout, r.stderr))
            self.assertIn("credgated is not running or the control socket", r.stderr)
            self.assertLess(time.monotonic() - started, 10, argv)


if __name__ == "__main__":
    # Decided before any test runs: unittest would count an exit from inside a test as its error.
    if os.geteuid() != 0:
        skip_or_fail("running the bound program as another uid needs root")
    if shutil.which("setpriv") is None:
        skip_or_fail("setpriv (util-linux) is not installed")
    unittest.main()
