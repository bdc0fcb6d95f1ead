#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgated refuses to start enforcement when /proc/kallsyms shows it 0 for the kernel address its
# programs are built with (bpf_link_fops): under kernel.kptr_restrict=2, and without CAP_SYSLOG under
# kernel.kptr_restrict=1. It says why, publishes nothing, and leaves the pinned programs as they are
# (programs built with 0 would differ from them and replace them). Beside each refusal, a control that
# starts normally.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
require_enforcement

w=$CREDGATE_VM_SCRATCH/kallsyms
root=$w/credentials
pins=/sys/fs/bpf/credgate
mkdir -p "$w/policies.d" "$w/bin"
chmod 0755 "$w" "$w/bin"
write_credgate_yaml kallsyms-node
# bpftool is named in enforcement.ownerExecutables, so it may list credgate's programs.
bpftool=$w/bin/bpftool
cp "$(command -v bpftool)" "$bpftool"
printf 'enforcement:\n  ownerExecutables: [%s]\n' "$bpftool" >>"$w/credgate.yaml"

no_syslog=(setpriv --bounding-set=-syslog --inh-caps=-syslog --)
kptr() { sysctl -qw "kernel.kptr_restrict=$1"; }
# The address of bpf_link_fops as the command CMD... (default: this shell) reads /proc/kallsyms.
link_fops() { "$@" awk '$3 == "bpf_link_fops" {print $1; exit}' /proc/kallsyms; }
zero() { [[ $1 =~ ^0+$ ]]; }
# "name id" of every credgate program the kernel has, sorted.
programs() {
  "$bpftool" -j prog show | /usr/bin/python3 -c 'import json,sys
for p in sorted(json.load(sys.stdin), key=lambda p: p["id"]):
    if p.get("name", "").startswith("credgate_"): print(p["name"], p["id"], p["tag"])'
}
logged() { grep -qF -- "$2" "$w/$1"; }
# run LOG [PREFIX...]: credgated (run by PREFIX, e.g. setpriv) until its control socket answers, then
# its enforcement mode is in $mode and it is stopped.
run() {
  local log=$1; shift
  "$@" "$credgated" --config "$w/credgate.yaml" 2>"$w/$log" &
  local pid=$!
  poll 120 ctl status || die "credgated ($log) did not answer on its control socket"
  mode=$(ctl status --json | json_get daemon.enforcement.mode)
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
}
refusal="enforce: Failed to start BPF LSM enforcement under '$pins': /proc/kallsyms shows credgated the address of 'bpf_link_fops' as 0"

# ---- control: kernel.kptr_restrict=1, root with CAP_SYSLOG ---------------------------------------
kptr 1
addr=$(link_fops)
if [[ -n $addr ]] && ! zero "$addr"; then pass "control: with kptr_restrict=1 root reads bpf_link_fops at $addr"
else failed "control: root reads bpf_link_fops at '$addr'"; fi
expect_read "control: credgated --check-enforcement reports support" "enforcement: supported" \
  "$credgated" --check-enforcement
run control.log
if [[ $mode == enforced ]] && logged control.log "enforce: Loaded BPF LSM enforcement under '$pins'"; then
  pass "control: credgated loads its programs and enforces"
else
  die "control: credgated's enforcement is '$mode': $(grep -m3 -E 'enforce|protection' "$w/control.log" | tr '\n' ' ')"
fi
programs >"$w/programs-loaded"
[[ $(wc -l <"$w/programs-loaded") -gt 20 ]] || die "bpftool lists $(wc -l <"$w/programs-loaded") credgate programs"

# ---- kernel.kptr_restrict=2: zeros for root too ------------------------------------------------
kptr 2
addr=$(link_fops)
if zero "$addr"; then pass "with kptr_restrict=2 /proc/kallsyms shows root bpf_link_fops at $addr"
else failed "with kptr_restrict=2 root reads bpf_link_fops at '$addr'"; fi
out=$("$credgated" --check-enforcement 2>&1); rc=$?
if ((rc == 1)) && [[ $out == *"as 0"*"kernel.kptr_restrict=2 hides kernel addresses from every process"* ]]; then
  pass "credgated --check-enforcement fails naming kernel.kptr_restrict=2"
else
  failed "--check-enforcement under kptr_restrict=2 exited $rc: $out"
fi
run kptr2.log
if [[ $mode == blocked ]] && logged kptr2.log "$refusal" && logged kptr2.log "kernel.kptr_restrict=2"; then
  pass "under kptr_restrict=2 credgated refuses to start enforcement, says why and publishes nothing"
else
  failed "under kptr_restrict=2: enforcement '$mode'; $(grep -m3 -E 'enforce|protection' "$w/kptr2.log" | tr '\n' ' ')"
fi
if [[ $(grep -c 'Failed to start BPF LSM enforcement' "$w/kptr2.log") == 1 ]] &&
  ! grep -qE 'enforce: (Loaded|Adopted|Replaced)' "$w/kptr2.log"; then
  pass "the refusal is logged once, and nothing was loaded, adopted or replaced"
else
  failed "refusal lines: $(grep -c 'Failed to start BPF LSM enforcement' "$w/kptr2.log"); $(grep -m2 -E 'enforce: (Loaded|Adopted|Replaced)' "$w/kptr2.log")"
fi
kptr 1
programs >"$w/programs-kptr2"
if cmp -s "$w/programs-loaded" "$w/programs-kptr2"; then
  pass "the pinned programs are the ones loaded before (the same ids and tags)"
else
  failed "the pinned programs changed: $(diff "$w/programs-loaded" "$w/programs-kptr2" | head -4 | tr '\n' ' ')"
fi

# ---- kernel.kptr_restrict=1 without CAP_SYSLOG -------------------------------------------------
addr=$(link_fops "${no_syslog[@]}")
if zero "$addr"; then pass "with kptr_restrict=1 a root process without CAP_SYSLOG reads bpf_link_fops at $addr"
else failed "without CAP_SYSLOG root reads bpf_link_fops at '$addr'"; fi
out=$("${no_syslog[@]}" "$credgated" --check-enforcement 2>&1); rc=$?
if ((rc == 1)) && [[ $out == *"as 0"*"runs without CAP_SYSLOG"*"kernel.kptr_restrict=1"* ]]; then
  pass "credgated --check-enforcement without CAP_SYSLOG fails naming CAP_SYSLOG and kernel.kptr_restrict=1"
else
  failed "--check-enforcement without CAP_SYSLOG exited $rc: $out"
fi
run nosyslog.log "${no_syslog[@]}"
if [[ $mode == blocked ]] && logged nosyslog.log "$refusal" && logged nosyslog.log "runs without CAP_SYSLOG"; then
  pass "without CAP_SYSLOG credgated refuses to start enforcement and says why"
else
  failed "without CAP_SYSLOG: enforcement '$mode'; $(grep -m3 -E 'enforce|protection' "$w/nosyslog.log" | tr '\n' ' ')"
fi
programs >"$w/programs-nosyslog"
if cmp -s "$w/programs-loaded" "$w/programs-nosyslog"; then pass "the pinned programs are still the ones loaded first"
else failed "the pinned programs changed: $(diff "$w/programs-loaded" "$w/programs-nosyslog" | head -4 | tr '\n' ' ')"; fi

# ---- control: the same settings, CAP_SYSLOG back: the pinned programs are adopted --------------
run adopt.log
if [[ $mode == enforced ]] && logged adopt.log "enforce: Adopted BPF LSM enforcement under '$pins'" &&
  logged adopt.log "this build's)"; then
  pass "control: with CAP_SYSLOG credgated adopts the pinned programs as its own and enforces"
else
  failed "control: enforcement '$mode'; $(grep -m3 -E 'enforce|protection' "$w/adopt.log" | tr '\n' ' ')"
fi

# For the record: what an operator reads.
for f in kptr2.log nosyslog.log; do echo "--- $f"; grep -E 'enforce:|protection:' "$w/$f"; done
finish
