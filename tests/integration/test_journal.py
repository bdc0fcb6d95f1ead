#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Structured journal fields: credgated started the way systemd starts a service (stderr a journald
# stream that JOURNAL_STREAM names) sends its lines natively, so `journalctl SPIFFE_ID=…` and
# `journalctl CREDGATE_BINDING=…` find every line about a binding. The host runs no journald, so the
# test runs a private one (systemd-journald, volatile storage) in its own mount namespace, where /run
# is a fresh tmpfs; nothing of the host's /run or journal is touched.
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

from harness import SPIFFE_ID, IntegrationCase, skip_or_fail

BINDING = "vault-openai-apikeys-binding"
JOURNALD = "/lib/systemd/systemd-journald"
JOURNAL_DIR = "/run/log/journal"
IN_NAMESPACE = "CREDGATE_JOURNAL_TEST_NAMESPACE"
JOURNALD_CONF = ("[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\n"
                 "ForwardToKMsg=no\nForwardToConsole=no\n")


def run_in_private_namespace():
    """Re-runs this file in a mount namespace of its own, or exits 77 saying why it cannot."""
    if os.environ.get(IN_NAMESPACE) == "1":
        return
    if os.geteuid() != 0:
        skip_or_fail("a private journald needs root (a mount namespace with its own /run)")
    for tool in (JOURNALD, shutil.which("unshare"), shutil.which("journalctl")):
        if not tool or not os.access(tool, os.X_OK):
            skip_or_fail(f"needs systemd-journald, unshare and journalctl (missing: {tool})")
    if not os.path.exists("/etc/systemd/journald.conf"):
        skip_or_fail("needs /etc/systemd/journald.conf to put the test's settings over")
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        skip_or_fail(f"cannot make a mount namespace here: {probe.stderr.strip()}")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, *sys.argv],
                       env=dict(os.environ, **{IN_NAMESPACE: "1"}))
    sys.exit(r.returncode)


def journal_stream(identifier):
    """A stream to journald as systemd opens one for a service's stderr, and its JOURNAL_STREAM."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("/run/systemd/journal/stdout")
    s.shutdown(socket.SHUT_RD)
    # The stream header: identifier, unit, priority, "<N>" prefixes parsed, then no forwarding.
    s.sendall(f"{identifier}\n\n6\n1\n0\n0\n0\n".encode())
    st = os.fstat(s.fileno())
    return s, f"{st.st_dev}:{st.st_ino}"


def journal(identifier, *matches):
    """Entries under SYSLOG_IDENTIFIER `identifier` in the private journal, with `matches` ANDed."""
    r = subprocess.run(["journalctl", "-D", JOURNAL_DIR, "--no-pager", "-o", "json",
                        f"SYSLOG_IDENTIFIER={identifier}", *matches], capture_output=True, text=True, timeout=30)
    if r.returncode not in (0, 1):  # 1: no entries
        raise AssertionError(f"journalctl failed: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


class Journal(IntegrationCase):
    journald = None

    @classmethod
    def setUpClass(cls):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"], check=True)
        os.makedirs("/run/systemd/journal")
        os.makedirs(JOURNAL_DIR)
        with open("/run/credgate-test-journald.conf", "w") as f:
            f.write(JOURNALD_CONF)
        subprocess.run(["mount", "--bind", "/run/credgate-test-journald.conf", "/etc/systemd/journald.conf"],
                       check=True)
        cls.journald = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists("/run/systemd/journal/stdout"):
            if time.monotonic() > deadline or cls.journald.poll() is not None:
                raise RuntimeError("the private systemd-journald did not start")
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        if cls.journald:
            cls.journald.terminate()
            cls.journald.wait(10)

    def test_every_line_about_a_binding_carries_its_name_and_spiffe_id(self):
        stream, journal_stream_id = journal_stream("credgated-stream")
        node = self.seed_node(refresh={"revokeGrace": "1s"}, output=stream,
                              env=dict(os.environ, JOURNAL_STREAM=journal_stream_id))
        stream.close()  # credgated holds its own copy
        pid = f"_PID={node.proc.pid}"  # natively sent entries are credgated's own
        self.wait_state(node, "OK")
        r = node.ctl("rotate", BINDING)
        self.assertEqual(r.returncode, 0, r.stderr)
        entries = self.wait_until(
            lambda: (e := journal("credgated", pid, f"SPIFFE_ID={SPIFFE_ID}"))
            and any("revoked the login token" in x["MESSAGE"] for x in e) and e,
            15, "the revocation of the rotated token to reach the journal")
        messages = [e["MESSAGE"] for e in entries]
        for expected in ("daemon: Binding 'vault-openai-apikeys-binding' was added: starting it",
                         "refresh: Binding 'vault-openai-apikeys-binding': delivered a new secret",
                         "daemon: Published '",
                         "refresh: Binding 'vault-openai-apikeys-binding': rotating on request",
                         "refresh: Binding 'vault-openai-apikeys-binding': revoked the login token",
                         "protection: Publishing '"):
            self.assertTrue(any(m.startswith(expected) for m in messages), f"{expected!r} not in {messages}")
        for e in entries:
            self.assertEqual(e["CREDGATE_BINDING"], BINDING, e)
            self.assertEqual(e["_TRANSPORT"], "journal", e)
            self.assertIn(e["CREDGATE_COMPONENT"], ("daemon", "refresh", "protection"), e)
        by_name = journal("credgated", pid, f"CREDGATE_BINDING={BINDING}")
        self.assertEqual({e["__CURSOR"] for e in by_name}, {e["__CURSOR"] for e in entries})

        everything = journal("credgated", pid) + journal("credgated-stream")
        about_binding = [e for e in everything
                         if f"'{BINDING}'" in e["MESSAGE"] or f"/crb-{BINDING}/" in e["MESSAGE"]]
        self.assertGreaterEqual(len(about_binding), len(entries))
        for e in about_binding:
            self.assertEqual(e.get("SPIFFE_ID"), SPIFFE_ID, f"a line about the binding without its fields: {e}")
        ready = [e for e in everything if e["MESSAGE"].startswith("daemon: credgated ") and " ready: " in e["MESSAGE"]]
        self.assertEqual(len(ready), 1, everything)
        self.assertEqual(ready[0]["PRIORITY"], "5")
        self.assertNotIn("CREDGATE_BINDING", ready[0])
        # Sent natively, so not also through the stream: no line twice, nothing through stdout.
        self.assertEqual([e for e in everything if e["_TRANSPORT"] != "journal"], [])
        delivered = [m for m in messages if "delivered a new secret" in m]
        self.assertEqual(len(delivered), len(set(delivered)), delivered)
        self.assertEqual(len(delivered), node.binding()["status"]["counters"]["publishes"])

    def test_without_journal_stream_the_lines_reach_the_journal_as_plain_text(self):
        # The same start without JOURNAL_STREAM (as when stderr is not journald's): the lines arrive
        # through the stream, so the journal has them but no field to find them by.
        stream, _ = journal_stream("credgated-plain")
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        node = self.seed_node(output=stream, env=env)
        stream.close()
        self.wait_state(node, "OK")
        lines = self.wait_until(
            lambda: [e for e in journal("credgated-plain") if "delivered a new secret" in e["MESSAGE"]],
            15, "the delivery line to reach the journal")
        self.assertEqual(lines[0]["_TRANSPORT"], "stdout")
        self.assertEqual(lines[0]["PRIORITY"], "6")  # the "<6>" prefix, parsed by journald
        self.assertNotIn("SPIFFE_ID", lines[0])
        self.assertEqual(journal("credgated", f"_PID={node.proc.pid}"), [], "nothing was sent natively")

if __name__ == "__main__":
    run_in_private_namespace()
    unittest.main(verbosity=2)
