#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# credgated's own listeners under abuse: 1,000 connections opened to the issuer port at once, each
# trickling a byte a second, while Vault must still fetch discovery and JWKS to log the binding in; and
# the control socket given garbage, huge requests, half-closed connections and more idle connections
# than it keeps. Through all of it: the binding stays OK in `credgatectl status`, Vault sees no extra
# requests, credgated's memory and open files stay bounded.
import http.client
import json
import os
import re
import resource
import socket
import threading
import time
import unittest

from harness import IntegrationCase, UnixHTTPConnection, configure_seed, seed_policy

BINDING = "vault-openai-apikeys-binding"
FLOOD = 1000
MAX_CONNECTIONS = 256          # http::kServerMaxConnections
RSS_GROWTH_LIMIT_KB = 32 << 10  # what 256 connections with their buffers may cost, and then some
if "ASAN_OPTIONS" in os.environ:  # tools/scripts/test-san: ASan's shadow memory and quarantine come on top
    RSS_GROWTH_LIMIT_KB *= 4


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class SlowFlood:
    """`n` TCP connections opened at once, each sending one byte of a request per second."""

    REQUEST = b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: issuer\r\n\r\n"

    def __init__(self, port, n):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n + 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
        self.socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            self.socks.append(s)
        self.sent = 0
        self.closed_by_server = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.trickle, daemon=True)
        self.thread.start()

    def trickle(self):
        while not self.stop.wait(1.0):
            if self.sent >= len(self.REQUEST) - 1:
                continue  # never complete the request
            byte = self.REQUEST[self.sent:self.sent + 1]
            for s in self.socks:
                try:
                    s.send(byte)
                except (BlockingIOError, OSError):
                    pass
            self.sent += 1

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close()


class IssuerFlood(IntegrationCase):
    def get(self, url):
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", int(url.split(":")[2].split("/")[0]), timeout=5)
        try:
            conn.request("GET", "/" + url.split("/", 3)[3])
            r = conn.getresponse()
            return r.status, r.read(), time.monotonic() - t0
        finally:
            conn.close()

    def test_a_flood_of_slow_connections_leaves_discovery_jwks_and_logins_served(self):
        node = self.credgated("")
        node.start()
        _, iss = node.api("GET", "/v1/issuer")
        discovery = node.issuer + "/.well-known/openid-configuration"
        jwks = iss["jwksURL"]
        self.assertEqual(self.get(discovery)[0], 200)
        pid = node.proc.pid
        rss0, fds0 = rss_kb(pid), open_fds(pid)

        flood = SlowFlood(node.issuer_port, FLOOD)
        try:
            peak_rss, peak_fds, worst = rss0, fds0, 0.0
            # While the flood holds every slot, Vault is configured to trust the issuer and the
            # binding is installed: its login needs devvault to fetch discovery and JWKS now.
            configure_seed(self.dv, {"oidc_discovery_url": node.issuer})
            node.write_policy(seed_policy(self.dv.vault))
            r = node.ctl("reload")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            for _ in range(12):
                for url in (discovery, jwks):
                    status, body, took = self.get(url)
                    self.assertEqual(status, 200, f"{url} during the flood")
                    json.loads(body)
                    worst = max(worst, took)
                peak_rss, peak_fds = max(peak_rss, rss_kb(pid)), max(peak_fds, open_fds(pid))
                time.sleep(1)
            self.assertGreaterEqual(flood.sent, 8, "the slow clients kept trickling")
            doc = self.wait_state(node, "OK", timeout=20)
            self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)
            self.assertNotIn("lastError", doc["status"])
        finally:
            flood.close()
        print(f"flood of {FLOOD}: RSS {rss0} -> peak {peak_rss} kB, fds {fds0} -> peak {peak_fds}, "
              f"slowest discovery/JWKS answer {worst:.3f} s", flush=True)
        self.assertLessEqual(peak_fds - fds0, MAX_CONNECTIONS + 8, "open connections are bounded")
        self.assertLessEqual(peak_rss - rss0, RSS_GROWTH_LIMIT_KB, "memory is bounded")
        self.assertLess(worst, 2.0, "discovery and JWKS answered promptly throughout")
        self.wait_until(lambda: open_fds(pid) <= fds0 + 8, 15, "the flood's connections to be closed")
        log = node.log_text()
        lines = [line for line in log.splitlines() if "Connection limit (256) reached" in line]
        self.assertGreaterEqual(len(lines), 1, log[-3000:])
        self.assertLessEqual(len(lines), 4, "the warning is rate-limited, not one line per connection")
        self.assertIn("closed the oldest connection that holds no request", lines[0])
        # What the operator sees: the binding OK, Vault asked once.
        row = [r for r in node.ctl("status").stdout.splitlines() if r.startswith(BINDING)]
        self.assertEqual(len(row), 1)
        self.assertIn("OK", row[0])
        self.assertEqual(self.dv.count("auth/jwt/login"), 1)


class ControlSocketAbuse(IntegrationCase):
    def raw(self, node, data, shut_write=False, timeout=5):
        """Send `data` on a new control connection; everything credgated answers until it closes."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(node.socket)
        try:
            if data:
                s.sendall(data)
            if shut_write:
                s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            s.close()

    def healthy(self, node):
        r = node.ctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        row = [line for line in r.stdout.splitlines() if line.startswith(BINDING)]
        self.assertEqual(len(row), 1, r.stdout)
        self.assertIn("OK", row[0])

    def test_garbage_huge_and_half_closed_requests_are_refused_and_nothing_else_changes(self):
        node = self.seed_node()
        self.wait_state(node, "OK")
        pid = node.proc.pid
        rss0, fds0 = rss_kb(pid), open_fds(pid)
        self.dv.reset_stats()

        # Garbage: a 400 and the connection closed.
        out = self.raw(node, b"\x00\xff\xfe not http at all\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:200])
        out = self.raw(node, os.urandom(4096))
        self.assertTrue(out == b"" or out.startswith(b"HTTP/1.1 400 "), out[:200])
        # A header over 16 KiB: 431.
        out = self.raw(node, b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (64 << 10) + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431 "), out[:200])
        # A body announced over 1 MiB: 413 before any of it is read.
        out = self.raw(node, b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 413 "), out[:200])
        # And one just over the control API's 4 KiB (kControlMaxBodyBytes): no endpoint takes a body.
        out = self.raw(node, b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 413 "), out[:200])
        # A body that is not {}: 400, refused before the reload runs.
        out = self.raw(node, b"POST /v1/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             b"Content-Length: 15\r\n\r\n{\"force\": true}", shut_write=True)
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:200])
        self.assertIn(b"takes no parameters in its body", out)
        # A wrong method: 405 with the one method the path takes.
        out = self.raw(node, b"GET /v1/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", shut_write=True)
        self.assertTrue(out.startswith(b"HTTP/1.1 405 "), out[:200])
        self.assertIn(b"\r\nAllow: POST\r\n", out)
        # Half-closed: a request cut short, then the client's end shut: closed without an answer.
        self.assertEqual(self.raw(node, b"GET /v1/sta", shut_write=True), b"")
        # Half-closed after a whole request: it is still answered.
        out = self.raw(node, b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", shut_write=True)
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:200])
        # More idle connections than the socket keeps: the operator's command still gets through.
        idle = []
        try:
            for _ in range(MAX_CONNECTIONS + 44):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(node.socket)
                idle.append(s)
            self.healthy(node)
            status, doc = node.api("GET", "/v1/status")
            self.assertEqual(status, 200)
            self.assertLessEqual(open_fds(pid) - fds0, MAX_CONNECTIONS + 8)
        finally:
            for s in idle:
                s.close()

        self.healthy(node)
        self.assertEqual(self.dv.count("auth/jwt/login"), 0, "no abuse of the control socket reaches Vault")
        self.assertEqual(self.dv.count("openai/creds/my-role"), 0)
        self.wait_until(lambda: open_fds(pid) <= fds0 + 2, 15, "the abusive connections to be closed")
        self.assertLessEqual(rss_kb(pid) - rss0, RSS_GROWTH_LIMIT_KB)
        self.assertIsNone(node.proc.poll(), "credgated is still running")


if __name__ == "__main__":
    unittest.main(verbosity=2)
