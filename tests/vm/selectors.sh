# SPDX-License-Identifier: Apache-2.0
# Each selector kind: the bound workload reads its file, an unbound process gets EACCES.
source "$(dirname "$0")/lib.sh"
require_enforcement

cg=/run/cg
mkdir -p "$cg" && chmod 0777 "$cg"
for f in bin script sha uid gid unit cgroup name; do
  echo "secret-$f" >"$cg/$f"
  chmod 0644 "$cg/$f"   # every uid passes DAC: only credgate can refuse
done

# Programs: copies on the guest's tmpfs so each has its own inode.
cp /bin/cat /tmp/agent-cat; cp /bin/cat /tmp/other-cat; cp /bin/cat /tmp/sha-agent; cp /bin/cat /tmp/agentname
# The read happens in a forked background subshell: the identity must follow fork().
printf '#!/bin/sh\n(read -r line < "$1" && echo "$line") &\nwait $!\n' >/tmp/agent.sh
cp /tmp/agent.sh /tmp/other.sh
chmod 0755 /tmp/agent-cat /tmp/other-cat /tmp/sha-agent /tmp/agentname /tmp/agent.sh /tmp/other.sh
sha=$(sha256sum /tmp/sha-agent | cut -d' ' -f1)
mkdir -p /sys/fs/cgroup/system.slice/agent.service /sys/fs/cgroup/cgtest/inner

# Before enforcement every reader succeeds: a later denial is credgate's doing.
expect_read "baseline: an unbound program reads an unprotected file" secret-bin /tmp/other-cat "$cg/bin"

"$driver" apply --candidate /tmp/sha-agent --candidate /tmp/other-cat \
  "$cg/bin::process:path=/tmp/agent-cat" \
  "$cg/script::process:path=/tmp/agent.sh" \
  "$cg/sha::process:sha256=$sha" \
  "$cg/uid::process:uid=1000" \
  "$cg/gid::process:gid=1002" \
  "$cg/unit::systemd:unit=agent.service" \
  "$cg/cgroup::cgroup:path=/cgtest" \
  "$cg/name::process:name=agentname&process:uid=1000" || { echo "FAIL: apply"; exit 1; }

expect_read   "process:path binary: the bound binary reads" secret-bin /tmp/agent-cat "$cg/bin"
expect_denied "process:path binary: a copy of it is refused" /tmp/other-cat "$cg/bin"
expect_denied "process:path binary: /bin/cat is refused" cat "$cg/bin"
expect_read   "process:path script: the bound script reads (from a forked subshell)" secret-script /tmp/agent.sh "$cg/script"
expect_denied "process:path script: an identical unbound script run by the same interpreter is refused" /tmp/other.sh "$cg/script"
expect_denied "process:path script: the interpreter itself is refused" sh -c 'read -r l < "$0" && echo "$l"' "$cg/script"
expect_read   "process:sha256: a file with the hash (a hashed candidate) reads" secret-sha /tmp/sha-agent "$cg/sha"
expect_denied "process:sha256: an identical copy that was never hashed is refused" /tmp/agent-cat "$cg/sha"
expect_read   "process:uid: uid 1000 reads" secret-uid as 1000 cat "$cg/uid"
expect_denied "process:uid: uid 1001 is refused" as 1001 cat "$cg/uid"
expect_denied "process:uid: root is refused" cat "$cg/uid"
expect_read   "process:gid: gid 1002 reads" secret-gid as 1001:1002 cat "$cg/gid"
expect_denied "process:gid: gid 1001 is refused" as 1001:1001 cat "$cg/gid"
expect_read   "systemd:unit: a process in agent.service reads" secret-unit in_cgroup system.slice/agent.service cat "$cg/unit"
expect_denied "systemd:unit: a process outside the unit is refused" cat "$cg/unit"
expect_read   "cgroup:path: a process in a sub-cgroup of /cgtest reads" secret-cgroup in_cgroup cgtest/inner cat "$cg/cgroup"
expect_denied "cgroup:path: a process outside /cgtest is refused" in_cgroup system.slice/agent.service cat "$cg/cgroup"
expect_read   "process:name AND uid: 'agentname' as uid 1000 reads" secret-name as 1000 /tmp/agentname "$cg/name"
expect_denied "process:name AND uid: 'agentname' as uid 1001 is refused" as 1001 /tmp/agentname "$cg/name"
expect_denied "process:name AND uid: another name as uid 1000 is refused" as 1000 cat "$cg/name"

# ---- a rule swap empties the retired half only after every running program has returned ----------
# (bpf/README.md, Rules) The wait is the kernel's: an update of an array-of-maps entry calls
# synchronize_rcu(). A kprobe on synchronize_rcu, with stack traces, sees who calls it: an apply that
# adopts the pinned state and empties the half the last flip retired, and, as the control, a run of the
# same tool that adopts and empties nothing (stats). One guest CPU: the kprobe patches kernel text.
t=/sys/kernel/tracing
mountpoint -q "$t" || mount -t tracefs nodev "$t"
echo 'p:credgate_sync synchronize_rcu' >>"$t/kprobe_events"
echo stacktrace >"$t/events/kprobes/credgate_sync/trigger"
echo 1 >"$t/events/kprobes/credgate_sync/enable"
barrier_waits() { grep -A8 'credgate-enforc.*credgate_sync:' "$t/trace" | grep -c 'bpf_map_update_value'; }
: >"$t/trace"
"$driver" stats >/dev/null || { echo "FAIL: stats"; exit 1; }
waits=$(barrier_waits)
if ((waits == 0)); then pass "control: a run that adopts the pinned state and empties no rule half waits for no grace period"
else failed "control: credgate-enforce-test stats waited for $waits grace period(s) in a map update"; fi
: >"$t/trace"
"$driver" apply "$cg/uid::process:uid=1000" >/dev/null || { echo "FAIL: apply (grace period)"; exit 1; }
waits=$(barrier_waits)
if ((waits == 1)); then pass "a rule swap waits for one RCU grace period (synchronize_rcu from a map update) before it empties the retired half"
else failed "a rule swap waited for $waits grace period(s) in a map update (wanted 1): $(grep -A8 credgate_sync "$t/trace" | head -20 | tr '\n' ' ')"; fi
echo 0 >"$t/events/kprobes/credgate_sync/enable"
echo '!stacktrace' >"$t/events/kprobes/credgate_sync/trigger"
echo '-:credgate_sync' >>"$t/kprobe_events"

finish
