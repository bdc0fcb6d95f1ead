#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-in-vm judges the guest's kernel log: a command that passes but leaves a kernel warning in the log
# fails, and run-in-vm names the record; a command that leaves a benign record passes. Two boots, in
# the mode CREDGATE_VM_INIT names (chroot or systemd).
set -u
harness=${1:?usage: kernel_log.sh RUN_IN_VM}
failures=0
pass() { echo "PASS: $*"; }
failed() { failures=$((failures + 1)); echo "FAIL: $*"; }
show() { sed 's/^/    | /' <<<"$1"; }

benign='credgate-vm-test: a benign kernel log record'
out=$("$harness" "echo '$benign' >/dev/kmsg" 2>&1); rc=$?
if [[ $rc -eq 77 ]]; then echo "$out"; exit 77; fi   # no qemu, kernel or busybox here
if [[ $rc -eq 0 && $out == *"the guest kernel log ("*" records) shows no warning"* && $out != *FAIL* ]]; then
  pass "a command that writes a benign record to /dev/kmsg passes, and run-in-vm says the log is clean"
else
  failed "benign record: exit $rc"; show "$out"
fi

fake='WARNING: CPU: 0 PID: 1 at fake'
out=$("$harness" "echo '$fake' >/dev/kmsg" 2>&1); rc=$?
if [[ $rc -eq 1 ]] && grep -q '^run-in-vm: FAIL: the guest kernel log shows:' <<<"$out" \
   && grep -qE "^run-in-vm:   \[ *[0-9]+\.[0-9]{6}\] $fake\$" <<<"$out"; then
  pass "a command that passes but writes '$fake' to /dev/kmsg fails (exit 1), and run-in-vm names the record"
else
  failed "fake warning: exit $rc"; show "$out"
fi

[[ $failures -eq 0 ]]
