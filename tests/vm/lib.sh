# SPDX-License-Identifier: Apache-2.0
# Shared helpers for VM test scripts (sourced; runs inside the guest as root).
# One line per case: "PASS: <case>" or "FAIL: <case>: <why>"; finish() exits 1 if any case failed.
set -u
failures=0
cases=0
driver=${CREDGATE_ENFORCE_DRIVER:?CREDGATE_ENFORCE_DRIVER is not set}

if [[ "${CREDGATE_IN_VM:-}" != 1 ]]; then
  echo "this script runs inside the VM: tools/vm/run-in-vm 'bash $0'" >&2
  exit 2
fi

# Guest seconds since the script started (TCG: relative figures only, to find slow cases).
started=${EPOCHREALTIME/./}
at() { local now=${EPOCHREALTIME/./}; printf '%d.%01ds' $(((now - started) / 1000000)) $(((now - started) / 100000 % 10)); }
pass() { cases=$((cases + 1)); echo "PASS: $* [$(at)]"; }
failed() { cases=$((cases + 1)); failures=$((failures + 1)); echo "FAIL: $* [$(at)]"; }

# as UID[:GID] CMD...: run CMD with those real/effective/file-system ids and no supplementary groups.
as() {
  local ids=$1; shift
  local uid=${ids%%:*} gid=${ids#*:}
  [[ "$ids" == *:* ]] || gid=$uid
  setpriv --reuid "$uid" --regid "$gid" --clear-groups -- "$@"
}

# in_cgroup DIR CMD...: run CMD inside cgroup DIR (under /sys/fs/cgroup).
in_cgroup() {
  local dir=$1; shift
  sh -c 'echo $$ > "/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$dir" "$@"
}

# expect_ok CASE CMD...: CMD must succeed.
expect_ok() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$name"; else failed "$name: failed: $(echo "$out" | tail -n 2 | tr '\n' ' ')"; fi
}

# expect_read CASE CONTENT CMD...: CMD must succeed and print CONTENT.
expect_read() {
  local name=$1 want=$2; shift 2
  local out
  if out=$("$@" 2>&1) && [[ "$out" == *"$want"* ]]; then pass "$name"
  else failed "$name: wanted '$want', got: $(echo "$out" | tail -n 2 | tr '\n' ' ')"; fi
}

# expect_denied CASE CMD...: CMD must fail with EACCES/EPERM ("Permission denied"/"not permitted").
expect_denied() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    failed "$name: was allowed: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
  elif [[ "$out" == *"ermission denied"* || "$out" == *"not permitted"* || "$out" == *EACCES* || "$out" == *EPERM* ]]; then
    pass "$name"
  else
    failed "$name: failed for another reason: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
  fi
}

finish() {
  echo "== $((cases - failures))/$cases cases passed"
  [[ $failures -eq 0 ]]
}

# Kernel refused to enforce: skip (77) unless every test must run.
require_enforcement() {
  local why
  if ! why=$("$driver" probe); then
    if [[ "${CREDGATE_REQUIRE_ALL_TESTS:-}" == 1 ]]; then echo "FAIL: enforcement unsupported in the guest: $why"; exit 1; fi
    echo "SKIP: enforcement unsupported in the guest: $why"; exit 77
  fi
}
