#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Soak: one credgated with many bindings on short leases against devvault for a long time, while
# readers read every credential file continuously. Not part of the default run:
#
#   build/ must be built; then, as root:
#   /usr/bin/python3 tests/integration/soak.py --bindings 50 --ttl 20s --minutes 30
#
# Reports, and fails on: a torn or invalid read (a file that is not the whole JSON document of one
# secret), a missed refresh (a binding out of OK after its first secret, a delivered key Vault no longer
# accepts, or a secret file missing), and growth of credgated's resident memory or open descriptors
# (the slope of a least-squares line over the second half of the run, after warm-up).
import argparse
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Credgated, DevVault, configure_seed, seed_policy  # noqa: E402
import tempfile  # noqa: E402
import shutil  # noqa: E402

# Growth over the second half that counts as a leak (a flat process wanders by a few kB).
MAX_RSS_SLOPE_KB_PER_MIN = 64.0
MAX_FD_SLOPE_PER_MIN = 0.1


def binding_doc(i):
    return f"""---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata:
  name: soak-{i:03d}
spec:
  workloadID: ai-agent
  credentialSource: vault-openai-apikeys
  propagation:
    file: {{}}
"""


def slope(points):
    """Least-squares slope of (t, y) points, per unit of t."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return 0.0 if var == 0 else sum((t - mt) * (y - my) for t, y in points) / var


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


class Readers:
    """Threads that read every credential file in turn, as fast as they can."""

    def __init__(self, paths, threads=4):
        self.paths = paths
        self.reads = 0
        self.invalid = []
        self.missing = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(k, threads), daemon=True) for k in range(threads)]
        for t in self.threads:
            t.start()

    def run(self, k, n):
        mine = self.paths[k::n]
        while not self.stop.wait(0.005):  # continuous, leaving CPU to credgated and devvault
            for path in mine:
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except FileNotFoundError:
                    with self.lock:
                        self.missing += 1
                    continue
                try:
                    doc = json.loads(data)
                    ok = isinstance(doc, dict) and isinstance(doc.get("api_key"), str) and doc["api_key"]
                except ValueError:
                    ok = False
                with self.lock:
                    self.reads += 1
                    if not ok and len(self.invalid) < 20:
                        self.invalid.append((path, data[:120]))
                    elif not ok:
                        self.invalid.append(None)

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def main():
    ap = argparse.ArgumentParser(description="credgated soak: many bindings on short leases, continuous readers")
    ap.add_argument("--bindings", type=int, default=50)
    ap.add_argument("--ttl", default="20s", help="the OpenAI secrets' lease TTL")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--sample-seconds", type=float, default=10.0)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="credgate-soak-")
    dv = DevVault()
    node = Credgated(os.path.join(tmp, "node"), "")
    try:
        node.start()
        configure_seed(dv, {"oidc_discovery_url": node.issuer}, ttl=args.ttl)
        extra = "".join(binding_doc(i) for i in range(1, args.bindings))
        node.write_policy(seed_policy(dv.vault, name="soak-000", extra_docs=extra))
        r = node.ctl("reload")
        if r.returncode != 0:
            raise SystemExit(f"reload failed: {r.stdout}{r.stderr}")
        names = [f"soak-{i:03d}" for i in range(args.bindings)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [node.binding(n)["status"]["state"] for n in names]
            if all(s == "OK" for s in states):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"not every binding reached OK within 120 s: {states}")
        paths = [node.file_path(n) for n in names]
        pid = node.proc.pid
        print(f"soak: {args.bindings} bindings, lease TTL {args.ttl}, {args.minutes} min; credgated pid {pid}",
              flush=True)

        readers = Readers(paths)
        start = time.monotonic()
        samples = []  # (minutes since start, rss kB, open fds)
        not_ok = []   # (binding, state) seen after the first delivery
        dead_keys = []
        refreshes = 0
        last_keys = {}
        next_sample = start
        while time.monotonic() - start < args.minutes * 60:
            now = time.monotonic()
            if now >= next_sample:
                samples.append(((now - start) / 60, proc_rss_kb(pid), len(os.listdir(f"/proc/{pid}/fd"))))
                next_sample += args.sample_seconds
            for n, path in zip(names, paths):
                state = node.binding(n)["status"]["state"]
                if state not in ("OK", "REFRESHING"):  # REFRESHING: the next secret is being fetched
                    not_ok.append((round(now - start, 1), n, state))
                try:
                    with open(path) as f:
                        key = json.load(f)["api_key"]
                except (OSError, ValueError, KeyError):
                    continue  # counted by the readers
                if last_keys.get(n) != key:
                    if n in last_keys:
                        refreshes += 1
                    last_keys[n] = key
                    if dv.models(key)[0] != 200:
                        dead_keys.append((round(now - start, 1), n))
            time.sleep(1.0)
        readers.close()

        half = [s for s in samples if s[0] >= args.minutes / 2]
        rss_slope = slope([(t, rss) for t, rss, _ in half])
        fd_slope = slope([(t, fds) for t, _, fds in half])
        print(f"soak: {readers.reads} reads, {len(readers.invalid)} torn or invalid, {readers.missing} missing; "
              f"{refreshes} refreshes seen, {len(not_ok)} samples of a binding out of OK, {len(dead_keys)} delivered "
              f"keys Vault refused", flush=True)
        print(f"soak: credgated RSS {samples[0][1]} kB at start, {samples[-1][1]} kB at the end, slope over the "
              f"second half {rss_slope:+.1f} kB/min; open fds {samples[0][2]} -> {samples[-1][2]}, slope "
              f"{fd_slope:+.3f}/min ({len(samples)} samples)", flush=True)
        expected = args.bindings * args.minutes * 60 / (int(args.ttl.rstrip("s")) if args.ttl.endswith("s") else 900)
        print(f"soak: about {expected:.0f} refreshes expected at one per lease (credgated refreshes before the end)",
              flush=True)
        failures = []
        if readers.invalid:
            failures.append(f"torn or invalid reads: {[x for x in readers.invalid if x][:5]}")
        if readers.missing:
            failures.append(f"{readers.missing} reads found no file")
        if not_ok:
            failures.append(f"bindings out of OK: {not_ok[:10]}")
        if dead_keys:
            failures.append(f"delivered keys Vault refused: {dead_keys[:10]}")
        if refreshes < expected * 0.9:
            failures.append(f"only {refreshes} refreshes seen")
        if rss_slope > MAX_RSS_SLOPE_KB_PER_MIN:
            failures.append(f"RSS grows by {rss_slope:.1f} kB/min")
        if fd_slope > MAX_FD_SLOPE_PER_MIN:
            failures.append(f"open fds grow by {fd_slope:.3f}/min")
        for f in failures:
            print(f"soak: FAIL: {f}", flush=True)
        if not failures:
            print("soak: PASS", flush=True)
        return 1 if failures else 0
    finally:
        node.stop()
        node.cleanup()
        dv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
