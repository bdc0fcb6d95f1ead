#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Runs one libFuzzer target for a fixed time from its seeds and its growing corpus, and fails on any
# finding (crash, sanitizer report, leak, timeout, out of memory), naming the input that caused it.
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys


def stage_seeds(paths, into):
    """Copies every seed file (a file, or the files under a directory) into one flat directory:
    libFuzzer takes directories, and a file given on its command line would only be run once."""
    shutil.rmtree(into, ignore_errors=True)
    os.makedirs(into)
    count = 0
    for path in paths:
        if not os.path.exists(path):
            sys.exit(f"run_target: seed path {path} does not exist")
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, f) for d, _, names in sorted(os.walk(path)) for f in sorted(names)]
        for f in files:
            with open(f, "rb") as src:
                data = src.read()
            with open(os.path.join(into, hashlib.sha1(data).hexdigest()), "wb") as dst:
                dst.write(data)
            count += 1
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--name", required=True)
    ap.add_argument("--target", required=True, help="the fuzz target executable")
    ap.add_argument("--work", required=True, help="directory for seeds/, corpus/, artifacts/ and logs/")
    ap.add_argument("--dict")
    ap.add_argument("--seeds", action="append", default=[])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("CREDGATE_FUZZ_SECONDS", "30")))
    ap.add_argument("libfuzzer_args", nargs="*", help="more libFuzzer flags (after --)")
    args = ap.parse_args()

    seeds = os.path.join(args.work, "seeds", args.name)
    corpus = os.path.join(args.work, "corpus", args.name)
    artifacts = os.path.join(args.work, "artifacts", args.name)
    logs = os.path.join(args.work, "logs")
    for d in (corpus, artifacts, logs):
        os.makedirs(d, exist_ok=True)
    n_seeds = stage_seeds(args.seeds, seeds)
    before = set(os.listdir(artifacts))

    env = dict(os.environ)
    # clang 19's runtimes do not take Debian's llvm-symbolizer through its /usr/bin symlink ("invalid
    # path to external symbolizer"); named by its real path, reports have function names and lines.
    symbolizer = shutil.which("llvm-symbolizer")
    extra = f":external_symbolizer_path={os.path.realpath(symbolizer)}" if symbolizer else ""
    # UBSan only prints by default; a finding must end the run like an ASan one.
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1" + extra)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:print_summary=1" + extra)
    cmd = [args.target, f"-max_total_time={args.seconds}", "-timeout=10", "-rss_limit_mb=2048",
           "-print_final_stats=1", "-error_exitcode=1", "-timeout_exitcode=1",
           f"-artifact_prefix={artifacts}/"]
    if args.dict:
        cmd.append(f"-dict={args.dict}")
    cmd += args.libfuzzer_args + [corpus, seeds]
    log_path = os.path.join(logs, args.name + ".log")
    print(f"fuzz {args.name}: {' '.join(cmd)}", flush=True)
    with open(log_path, "wb") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            timeout=args.seconds + 300).returncode
    with open(log_path, "rb") as f:
        text = f.read().decode(errors="replace")

    execs = re.search(r"stat::number_of_executed_units: (\d+)", text)
    done = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", text)
    new_artifacts = sorted(set(os.listdir(artifacts)) - before)
    summary = (f"fuzz {args.name}: {execs.group(1) if execs else '?'} executions in {args.seconds} s from "
               f"{n_seeds} seeds")
    if done:
        cov, ft, corp, size = done[-1]
        summary += f"; coverage {cov} edges, {ft} features, corpus {corp} inputs ({size})"
    if rc != 0 or new_artifacts or re.search(r"ERROR: (libFuzzer|\w+Sanitizer)|runtime error: ", text):
        print(text[-20000:])
        print(f"{summary}\nfuzz {args.name}: FINDING (exit {rc}); inputs: " +
              (", ".join(os.path.join(artifacts, a) for a in new_artifacts) or "none written") +
              f"; log {log_path}", file=sys.stderr)
        return 1
    print(f"{summary}; no finding (log {log_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
