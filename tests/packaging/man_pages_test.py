#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The manual pages say what the programs do: every option of `credgated --help`, every subcommand and
# option of `credgatectl --help`, every key of packaging/credgate.yaml and every field and selector of
# policies/README.md is described; the examples in the pages load with `credgatectl validate`; and
# each built page renders without a warning from man/groff.
# usage: man_pages_test.py CREDGATED CREDGATECTL BUILT_PAGE...
import os
import re
import shutil
import subprocess
import sys
import tempfile

credgated, credgatectl, built = sys.argv[1], sys.argv[2], sys.argv[3:]
root = os.environ["CREDGATE_SOURCE_ROOT"]
man = os.path.join(root, "man")
failures = []
cases = 0


def check(cond, what):
    global cases
    cases += 1
    print(("PASS: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def read(path):
    with open(path) as f:
        return f.read()


def help_text(*args):
    p = subprocess.run([*args, "--help"], capture_output=True, text=True, timeout=30)
    return p.stdout


def options(help_out):
    """Every option a CLI11 --help lists, except -h/--help."""
    found = []
    for line in help_out.splitlines():
        m = re.match(r"\s+(-[^\s]+)", line)
        if m:
            found += [o for o in m.group(1).split(",") if o not in ("-h", "--help")]
    return found


def subcommands(help_out):
    lines = help_out.splitlines()
    if "Subcommands:" not in lines:
        return []
    out = []
    for line in lines[lines.index("Subcommands:") + 1:]:
        if not line.startswith("  "):
            break
        out.append(line.split()[0])
    return out


def bold(page, text):
    return f"*{text}*" in page


# credgated(8): every option.
page = read(os.path.join(man, "credgated.8.scd"))
opts = options(help_text(credgated))
check(len(opts) >= 5, f"credgated --help lists its options ({', '.join(opts)})")
for o in opts:
    check(bold(page, o), f"credgated(8) describes credgated's option {o}")

# credgatectl(8): every subcommand has its own section, with every option of that subcommand.
page = read(os.path.join(man, "credgatectl.8.scd"))
subs = subcommands(help_text(credgatectl))
check(len(subs) >= 5, f"credgatectl --help lists its subcommands ({', '.join(subs)})")
sections = re.findall(r"^## (\S+)$", page, re.M)
check(sorted(sections) == sorted(subs),
      f"credgatectl(8) has one section per subcommand: sections {sections}, subcommands {subs}")
control = page[page.index("# CONTROL OPTIONS"):page.index("# SUBCOMMANDS")]
for s in subs:
    body = page.split(f"\n## {s}\n", 1)[1].split("\n#", 1)[0] if f"\n## {s}\n" in page else ""
    for o in options(help_text(credgatectl, s)):
        check(bold(body, o) or bold(control, o), f"credgatectl(8) describes the option {o} of '{s}'")

# credgate.yaml(5): every key of the packaged settings file, commented-out ones included.
page = read(os.path.join(man, "credgate.yaml.5.scd"))
keys, section = [], None
for line in read(os.path.join(root, "packaging", "credgate.yaml")).splitlines():
    # "key:" or, for a key shown commented out, "  # key: value" (top-level comments are prose).
    m = re.match(r"^( *)(# )?([A-Za-z]+):(?: |$)", line)
    if not m or (m.group(2) and not m.group(1)):
        continue
    if not m.group(1):
        section = m.group(3)
        keys.append(section)
    elif section:
        keys.append(f"{section}.{m.group(3)}")
leaves = [k for k in keys if not any(other.startswith(k + ".") for other in keys)]
check(len(leaves) >= 15, f"packaging/credgate.yaml has its keys ({len(leaves)})")
for k in leaves:
    check(bold(page, k), f"credgate.yaml(5) describes {k}")

# credgate-policy(5): every field and selector key of the schema reference.
page = read(os.path.join(man, "credgate-policy.5.scd"))
reference = read(os.path.join(root, "policies", "README.md"))
policy_part = reference.split("## Agent settings")[0]
fields = re.findall(r"^\| `((?:spec|metadata|apiVersion|kind)[^`]*)` \|", policy_part, re.M)
selectors = re.findall(r"^\| `([a-z]+:[a-z0-9]+)` \|", policy_part, re.M)
check(len(fields) >= 30 and len(selectors) == 9,
      f"policies/README.md lists its fields ({len(fields)}) and selectors ({len(selectors)})")
for f in fields + selectors:
    check(bold(page, f), f"credgate-policy(5) describes {f}")


# The examples in the pages: credgate.yaml(5)'s settings with credgate-policy(5)'s policies.
def example(name, heading):
    text = read(os.path.join(man, name))
    part = text.split(f"# {heading}", 1)[1]
    return part.split("```\n", 2)[1]


with tempfile.TemporaryDirectory() as tmp:
    settings, policy = os.path.join(tmp, "credgate.yaml"), os.path.join(tmp, "policy.yaml")
    with open(settings, "w") as f:
        f.write(example("credgate.yaml.5.scd", "EXAMPLE"))
    with open(policy, "w") as f:
        f.write(example("credgate-policy.5.scd", "EXAMPLES"))
    p = subprocess.run([credgatectl, "validate", "--config", settings, policy], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0 and p.stdout.startswith("valid: 3 objects"),
          f"the examples of credgate.yaml(5) and credgate-policy(5) validate: exit {p.returncode} "
          f"{p.stdout.strip()} {p.stderr.strip()}")

# Each built page renders without a warning (what lintian's groff check runs).
if shutil.which("man"):
    for page_path in built:
        p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page_path],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "LC_ALL": "C.UTF-8", "MANROFFSEQ": "", "MANWIDTH": "80"})
        check(p.returncode == 0 and p.stderr.strip() == "",
              f"{os.path.basename(page_path)} renders without warnings {p.stderr.strip()}")
else:
    check(False, "man is installed (man-db) to check the pages render")

print(f"== {cases - len(failures)}/{cases} cases passed")
sys.exit(1 if failures else 0)
