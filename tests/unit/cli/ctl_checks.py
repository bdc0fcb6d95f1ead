# SPDX-License-Identifier: Apache-2.0
# What the credgatectl end-to-end scripts share: the binary (their first argument) run with a timeout,
# and checks collected so that every failure is reported at the end, not only the first.
import os
import subprocess
import sys

ctl = sys.argv[1]
root = os.environ["CREDGATE_SOURCE_ROOT"]
config = os.path.join(root, "packaging", "credgate.yaml")
failures = []


def run(*args):
    p = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, what, out=""):
    if not cond:
        failures.append(f"{what}\n{out}")


def finish(name):
    """Exits 1 after printing every failed check, else prints that all passed."""
    if failures:
        print("\n".join(failures), file=sys.stderr)
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: all checks passed")
