#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# `credgatectl validate` end to end: exit codes 0/1/2, the summary line, and every invalid
# fixture's expected FILE:LINE:COL and message on stderr.
import os
import re
import tempfile

from ctl_checks import check, config, failures, finish, root, run

examples = os.path.join(root, "policies", "examples")
fixtures = os.path.join(root, "tests", "fixtures", "policies")


def expectation(path):
    with open(path) as f:
        m = re.match(r"# expect: (\d+):(\d+) (.+)$", f.readline().rstrip("\n"))
    if not m:
        failures.append(f"{path}: first line is not '# expect: LINE:COL substring'")
        return None
    return int(m.group(1)), int(m.group(2)), m.group(3)


# Valid: examples with the packaged settings.
rc, out, err = run("validate", "--config", config, examples)
check(rc == 0, f"validate examples: exit {rc}, want 0", err)
check(re.fullmatch(r"valid: 8 objects \(1 Service, 2 CredentialSource, 3 WorkloadIdentity, 2 CredentialBinding\) "
                   r"in 3 files, 0 warnings; settings .*credgate\.yaml \(trust domain example\.org\)\n", out),
      "summary line", out)

# --config alone validates the configured policy dir.
with tempfile.TemporaryDirectory() as tmp:
    cfg = os.path.join(tmp, "credgate.yaml")
    with open(config) as src, open(cfg, "w") as dst:
        dst.write(src.read().replace("dir: /etc/credgate/policies.d", f"dir: {examples}"))
    rc, out, err = run("validate", "--config", cfg)
    check(rc == 0 and out.startswith("valid: "), f"validate --config only: exit {rc}", out + err)

# Without a settings file (when the default one does not exist) the trust domain is unknown.
if not os.path.exists("/etc/credgate/credgate.yaml"):
    rc, out, err = run("validate", examples)
    check(rc == 0, f"validate without settings: exit {rc}", err)
    check("trust domain is unknown" in out, "summary says the trust domain is unknown", out)

# Warnings are printed and do not change the exit code.
for f in sorted(os.listdir(os.path.join(fixtures, "warnings"))):
    path = os.path.join(fixtures, "warnings", f)
    exp = expectation(path)
    rc, out, err = run("validate", "--config", config, path)
    check(rc == 0, f"{f}: exit {rc}, want 0", err)
    check(re.search(r"1 warning\b", out), f"{f}: summary counts the warning", out)
    if exp:
        line, col, text = exp
        check(any(l.startswith(f"{path}:{line}:{col}: warning: ") and text in l for l in err.splitlines()),
              f"{f}: warning at {line}:{col} with '{text}' not on stderr", err)

# Invalid: every fixture fails with its expected error on stderr.
invalid = sorted(os.listdir(os.path.join(fixtures, "invalid")))
check(len(invalid) >= 25, f"only {len(invalid)} invalid fixtures")
for f in invalid:
    path = os.path.join(fixtures, "invalid", f)
    exp = expectation(path)
    rc, out, err = run("validate", "--config", config, path)
    check(rc == 1, f"{f}: exit {rc}, want 1", err)
    check(out == "", f"{f}: nothing on stdout when invalid", out)
    if exp:
        line, col, text = exp
        check(any(l.startswith(f"{path}:{line}:{col}: ") and text in l for l in err.splitlines()),
              f"{f}: '{path}:{line}:{col}: ...{text}' not on stderr", err)

for f in sorted(os.listdir(os.path.join(fixtures, "config-invalid"))):
    path = os.path.join(fixtures, "config-invalid", f)
    exp = expectation(path)
    rc, out, err = run("validate", "--config", path, examples)
    check(rc == 1, f"config {f}: exit {rc}, want 1", err)
    if exp:
        line, col, text = exp
        check(any(l.startswith(f"{path}:{line}:{col}: ") and text in l for l in err.splitlines()),
              f"config {f}: '{path}:{line}:{col}: ...{text}' not on stderr", err)

# Several bad files: every error of every file is reported.
two = [os.path.join(fixtures, "invalid", n) for n in ("dangling-source.yaml", "process-uid-negative.yaml")]
rc, out, err = run("validate", "--config", config, *two)
check(rc == 1 and all(p + ":" in err for p in two), "errors from both files", err)

# Broken settings and broken policies: both are reported by one run.
bad_config = os.path.join(fixtures, "config-invalid", "unknown-key.yaml")
bad_policy = os.path.join(fixtures, "invalid", "dangling-source.yaml")
rc, out, err = run("validate", "--config", bad_config, bad_policy)
check(rc == 1 and "unknown key 'enforce'" in err and "no CredentialSource is named 'vault-openai'" in err,
      f"settings and policy errors in one run: exit {rc}", err)

# A missing path or settings file is an error, not a usage error.
rc, out, err = run("validate", "--config", config, "/nonexistent/policies.d")
check(rc == 1 and "/nonexistent/policies.d: cannot read" in err, f"missing path: exit {rc}", err)
rc, out, err = run("validate", "--config", "/nonexistent/credgate.yaml", examples)
check(rc == 1 and "/nonexistent/credgate.yaml" in err, f"missing settings: exit {rc}", err)

# A bound program that a uid other than root could replace by rename is a warning naming the path
# and the fix; the same program in a directory only root may write is not.
with tempfile.TemporaryDirectory() as tmp:
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    program = os.path.join(bindir, "agent")
    with open(program, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(program, 0o755)
    os.chmod(tmp, 0o755)
    policy = os.path.join(tmp, "agent.yaml")
    with open(policy, "w") as f:
        f.write("apiVersion: credgate.io/v1alpha1\nkind: WorkloadIdentity\nmetadata:\n  name: agent\nspec:\n"
                f"  workloadID: agent\n  selectors:\n    - process:path: {program}\n      process:uid: 1000\n")
    os.chmod(bindir, 0o777)  # anyone may rename the program away (no sticky bit)
    rc, out, err = run("validate", "--config", config, policy)
    check(rc == 0, f"replaceable program: exit {rc}, want 0 (a warning)", err)
    # Not root: the temp dirs and the program belong to this uid, which adds a warning for each.
    owner = "" if os.geteuid() == 0 else f"owned by uid {os.geteuid()} and "
    want = (f"{policy}:8:7: warning: WorkloadIdentity/agent: spec.selectors[0].process:path: process:path "
            f"'{program}' can be replaced by a uid other than root: '{bindir}' on its path is {owner}writable by "
            f"group {os.stat(bindir).st_gid} and by others (mode 0777)")
    check(any(l.startswith(want) and f"chmod go-w '{bindir}'" in l for l in err.splitlines()),
          f"replaceable program: no warning starting '{want}' with the fix", err)
    if os.geteuid() == 0:  # only root can make every directory of the path root-owned
        check(re.search(r"\b1 warning\b", out), "replaceable program: the summary counts one warning", out)
        os.chmod(bindir, 0o755)
        rc, out, err = run("validate", "--config", config, policy)
        check(rc == 0 and "0 warnings" in out and "can be replaced" not in err,
              "a root-owned program in root-owned directories: no warning", out + err)

# A node at the limit: 10,000 bindings validate (the kernel's tables hold them); one more is refused,
# naming the binding that does not fit and the limit.
def many_bindings(n):
    objects = ["apiVersion: credgate.io/v1alpha1\nkind: CredentialSource\nmetadata:\n  name: src\nspec:\n"
               "  vault:\n    address: http://127.0.0.1:8200\n    role: r\n    path: kv/data/x\n    audience: [vault]\n",
               "apiVersion: credgate.io/v1alpha1\nkind: WorkloadIdentity\nmetadata:\n  name: agent\nspec:\n"
               "  workloadID: agent\n  selectors:\n    - process:uid: 1000\n"]
    objects += [f"apiVersion: credgate.io/v1alpha1\nkind: CredentialBinding\nmetadata:\n  name: b{i}\nspec:\n"
                f"  workloadID: agent\n  credentialSource: src\n  output:\n    file: b{i}.json\n" for i in range(n)]
    return "---\n".join(objects)


with tempfile.TemporaryDirectory() as tmp:
    policy = os.path.join(tmp, "many.yaml")
    with open(policy, "w") as f:
        f.write(many_bindings(10000))
    rc, out, err = run("validate", "--config", config, policy)
    check(rc == 0 and out.startswith("valid: 10002 objects (1 CredentialSource, 1 WorkloadIdentity, 10000 CredentialBinding)"),
          f"10,000 bindings: exit {rc}, want 0 and a summary counting them", out + err[-400:])
    with open(policy, "w") as f:
        f.write(many_bindings(10001))
    rc, out, err = run("validate", "--config", config, policy)
    check(rc == 1 and "CredentialBinding/b10000: 10001 bindings; the kernel rules hold at most 10000" in err,
          f"10,001 bindings: exit {rc}, want 1 naming the binding past the limit", err[-600:])

# Usage errors exit 2.
for args in ([], ["validate", "--no-such-option"], ["no-such-command"], ["validate", "--config"]):
    rc, out, err = run(*args)
    check(rc == 2, f"{args}: exit {rc}, want 2", err)
rc, out, err = run("--help")
check(rc == 0 and "validate" in out, "--help exits 0 and lists validate", out + err)

finish("cli-validate")
