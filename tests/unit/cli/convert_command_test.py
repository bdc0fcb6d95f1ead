#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# `credgatectl convert` end to end: the seed's core.riptides.io objects become credgate YAML with a
# comment on every change, the flagged selector is the only thing `credgatectl validate` then refuses,
# and once strengthened the converted files validate; exit codes 0/1/2 and all-or-nothing output.
import os
import re
import tempfile

from ctl_checks import check, config, finish, root, run

fixtures = os.path.join(root, "tests", "fixtures", "convert")
seed_dir = os.path.join(fixtures, "seed")
seed = [os.path.join(seed_dir, n) for n in ("credential-source.yaml", "workload-identity.yaml",
                                            "credential-binding.yaml")]


def content_lines(yaml):
    """The lines that are not comments."""
    return [l for l in yaml.splitlines() if not l.lstrip().startswith("#")]


def comments(yaml):
    """Every comment, one per line: wrapped continuation lines ("#   more") joined to the line they continue."""
    out = []
    for l in yaml.splitlines():
        l = l.strip()
        if not l.startswith("#"):
            continue
        if l.startswith("#   ") and out:
            out[-1] += " " + l[4:]
        else:
            out.append(l)
    return "\n".join(out)


def strengthen(text):
    """Adds process:path to the flagged process:name-only alternative, as an operator would."""
    out, n = re.subn(r"^( *)- process:name:", r"\1- process:path: /opt/ai-agent/bin/ai-agent\n\1  process:name:",
                     text, flags=re.M)
    check(n == 1, f"one process:name-only alternative to strengthen, found {n}", text)
    return out


# Before conversion: validate refuses the seed files for their apiVersion only, and says what to run.
rc, out, err = run("validate", "--config", config, *seed)
api_errors = [l for l in err.splitlines() if ": apiVersion: " in l]
check(rc == 1 and len(api_errors) == 3, f"validate on the seed files: exit {rc}, 3 apiVersion errors", err)
check(all("core.riptides.io/v1alpha1" in l and "run 'credgatectl convert FILE'" in l for l in api_errors),
      "each apiVersion error names convert", err)
check(re.search(r"invalid: 3 errors, 0 warnings", err), "nothing but the three apiVersion errors", err)

# The seed converts; the process:name-only selector needs attention (exit 1).
rc, out, err = run("convert", *seed)
check(rc == 1, f"convert seed: exit {rc}, want 1", err)
docs = out.split("\n---\n")
check(len(docs) == 3, f"three documents, got {len(docs)}", out)
body = "\n".join(content_lines(out))
check(body.count("apiVersion: credgate.io/v1alpha1") == 3, "credgate's apiVersion on every object", out)
check("core.riptides.io" not in body, "the old group only in comments", out)
check("namespace" not in body and "riptides-system" not in body, "metadata.namespace gone", out)
check("scope" not in body and "ai-node-1" not in body, "spec.scope gone", out)
for name in ("vault-openai-apikeys", "ai-agent", "vault-openai-apikeys-binding"):
    check(re.search(rf"^  name: {re.escape(name)}$", out, re.M), f"metadata.name {name} kept", out)
for line in ("    address: http://localhost:8200", "    jwtAuthMethodPath: jwt", "    role: openai-apikeys",
             "    path: openai/creds/my-role", "    - vault", "  workloadID: ai-agent",
             "  credentialSource: vault-openai-apikeys", "    sysfs: {}", "  - process:name:", "    - ai-agent"):
    check(line in content_lines(out), f"'{line.strip()}' kept as written", out)
notes = comments(out)
check(notes.count("# apiVersion: was core.riptides.io/v1alpha1") == 3, "a comment on each apiVersion", notes)
for p in seed:
    check(f"# Converted from {p} by 'credgatectl convert'." in notes, f"a comment naming {p}", notes)
check(notes.count("# metadata.namespace: namespace 'riptides-system' dropped: credgate has no namespaces") == 3,
      "a comment on each dropped namespace", notes)
check(re.search(r"# spec\.scope\.agent\.id: agent\.id 'ai-node-1' dropped: the scope is now this node\. "
                r".*'node' in credgate\.yaml", notes), "the scope comment says what credgate uses instead", notes)
flag = re.search(r"# NEEDS ATTENTION: spec\.selectors\[0\]: process:name alone is spoofable.*", notes)
check(flag, "the process:name-only selector is flagged", notes)
if flag:
    for key in ("process:path", "process:sha256", "process:uid", "systemd:unit", "cgroup:path"):
        check(key in flag.group(0), f"the flag lists the strong key {key}", flag.group(0))
    check("process:name," not in flag.group(0).split("alternative:")[-1], "the flag does not offer process:name",
          flag.group(0))
# The flag sits right above the flagged alternative.
lines = out.splitlines()
at = next((i for i, l in enumerate(lines) if l.strip().startswith("- process:name:")), None)
check(at is not None and lines[at - 1].lstrip().startswith("#"), "the comment is above the flagged selector", out)
check(re.search(r"workload-identity\.yaml:15:7: WorkloadIdentity/ai-agent: spec\.selectors\[0\]: needs attention: "
                r"process:name alone is spoofable", err), "the flag on stderr, located", err)
check(": warning: " not in err, "no warning for the seed: every change has an equivalent", err)
check(re.search(r"credgatectl convert: 3 objects from 3 files printed; 1 item needs attention, 0 warnings", err),
      "summary on stderr", err)

with tempfile.TemporaryDirectory() as tmp:
    # As converted, validate refuses exactly the flagged selector: the flag is real.
    converted = os.path.join(tmp, "converted.yaml")
    with open(converted, "w") as f:
        f.write(out)
    rc, vout, verr = run("validate", "--config", config, converted)
    check(rc == 1 and "process:name alone is spoofable" in verr and "invalid: 1 error" in verr,
          f"validate the converted seed unchanged: exit {rc}, want only the weak selector refused", verr)
    with open(converted, "w") as f:
        f.write(strengthen(out))
    rc, vout, verr = run("validate", "--config", config, converted)
    check(rc == 0 and vout.startswith("valid: 3 objects (1 CredentialSource, 1 WorkloadIdentity, "
                                      "1 CredentialBinding) in 1 file"),
          f"validate the strengthened conversion: exit {rc}", vout + verr)

    # -o DIR: one file per input, named as the input, the same text as printed.
    outdir = os.path.join(tmp, "policies.d")
    rc, oout, oerr = run("convert", "-o", outdir, *seed)
    check(rc == 1 and oout == "", f"convert -o: exit {rc}, nothing on stdout", oout + oerr)
    check("written to " + outdir in oerr, "the summary says where", oerr)
    written = sorted(os.listdir(outdir)) if os.path.isdir(outdir) else []
    check(written == sorted(os.path.basename(p) for p in seed), f"files in -o DIR: {written}")
    texts = []
    for p in seed:
        with open(os.path.join(outdir, os.path.basename(p))) as f:
            texts.append(f.read())
    check("---\n".join(texts) == out, "-o writes what convert prints", "\n---\n".join(texts))
    identity = os.path.join(outdir, "workload-identity.yaml")
    with open(identity) as f:
        text = f.read()
    with open(identity, "w") as f:
        f.write(strengthen(text))
    rc, vout, verr = run("validate", "--config", config, outdir)
    check(rc == 0 and vout.startswith("valid: 3 objects") and "in 3 files" in vout,
          f"validate the strengthened -o DIR: exit {rc}", vout + verr)

    # An existing output is never replaced, and then nothing is written at all.
    again = os.path.join(tmp, "again")
    os.mkdir(again)
    with open(os.path.join(again, "credential-binding.yaml"), "w") as f:
        f.write("# edited by hand\n")
    rc, oout, oerr = run("convert", "-o", again, *seed)
    check(rc == 2 and "exists" in oerr, f"convert -o over an existing file: exit {rc}, want 2", oerr)
    check(sorted(os.listdir(again)) == ["credential-binding.yaml"], "nothing written when one output exists")
    rc, oout, oerr = run("convert", "-o", seed_dir, seed[0])
    check(rc == 2 and "would replace its own input" in oerr, f"convert -o onto the input: exit {rc}", oerr)

    # Garbage input: exit 2, a message naming the file, nothing printed, even with good files beside it.
    binary = os.path.join(tmp, "binary.yaml")
    with open(binary, "wb") as f:
        f.write(bytes(range(256)) * 4)
    for bad in (os.path.join(fixtures, "not-yaml.yaml"), binary, os.path.join(tmp, "missing.yaml")):
        rc, gout, gerr = run("convert", seed[0], bad)
        check(rc == 2, f"convert {bad}: exit {rc}, want 2", gerr)
        check(gout == "", f"convert {bad}: nothing on stdout", gout)
        check(any(l.startswith(bad + ":") for l in gerr.splitlines()), f"convert {bad}: the message names the file",
              gerr)
    rc, gout, gerr = run("convert", tmp)
    check(rc == 2 and f"{tmp}: is a directory" in gerr, f"convert DIR: exit {rc}", gerr)

    # Strong selectors: converted with nothing to do (exit 0), and the result validates as printed.
    strong = os.path.join(fixtures, "strong-selectors.yaml")
    rc, sout, serr = run("convert", strong)
    check(rc == 0, f"convert strong selectors: exit {rc}, want 0", serr)
    check("NEEDS ATTENTION" not in sout and "needs attention" not in serr, "nothing flagged", sout + serr)
    check("0 items need attention, 0 warnings" in serr, "summary of an unflagged conversion", serr)
    strong_out = os.path.join(tmp, "strong.yaml")
    with open(strong_out, "w") as f:
        f.write(sout)
    rc, vout, verr = run("validate", "--config", config, strong_out)
    check(rc == 0, f"validate the unflagged conversion: exit {rc}", vout + verr)

    # No equivalent: every dropped field and object is a comment and a warning, never silent.
    noeq = os.path.join(fixtures, "no-equivalent.yaml")
    rc, nout, nerr = run("convert", noeq)
    check(rc == 0, f"convert no-equivalent: exit {rc}, want 0", nerr)
    for field, line in (("metadata.annotations", 9), ("spec.svid", 19), ("spec.propagation.injection", 33)):
        check(re.search(rf"^{re.escape(noeq)}:{line}:\d+: warning: \S+: {re.escape(field)}: ", nerr, re.M),
              f"warning for {field} at line {line}", nerr)
        check(f"# warning: {field}: " in comments(nout), f"comment for {field}", nout)
    check(re.search(rf"^{re.escape(noeq)}:37:1: warning: Verifier/dev-jointoken: auth\.riptides\.io/v1alpha1 "
                    r"Verifier has no credgate equivalent", nerr, re.M), "warning for the dropped object", nerr)
    check("# warning: auth.riptides.io/v1alpha1 Verifier has no credgate equivalent" in comments(nout),
          "comment for the dropped object", nout)
    check("svid" not in "\n".join(content_lines(nout)) and "injection" not in "\n".join(content_lines(nout)),
          "dropped fields are not in the output", nout)
    check("4 warnings" in nerr, "summary counts the warnings", nerr)
    noeq_out = os.path.join(tmp, "no-equivalent.yaml")
    with open(noeq_out, "w") as f:
        f.write(nout)
    source_out = os.path.join(tmp, "source.yaml")
    rc, cout, cerr = run("convert", seed[0])
    with open(source_out, "w") as f:
        f.write(cout)
    rc, vout, verr = run("validate", "--config", config, noeq_out, source_out)
    check(rc == 0, f"validate the no-equivalent conversion: exit {rc}", vout + verr)

# Usage and help.
rc, out, err = run("convert")
check(rc == 2, f"convert without FILE: exit {rc}, want 2", err)
rc, out, err = run("convert", "--help")
check(rc == 0 and "Exit status:" in out and "NEEDS ATTENTION" in out and
      all(re.search(rf"^ +{code} +{word}", out, re.M) for code, word in (("0", "converted"), ("1", "converted"),
                                                                       ("2", "usage"))),
      "help documents the exit codes", out)

finish("cli-convert")
