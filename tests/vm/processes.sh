# SPDX-License-Identifier: Apache-2.0
# A process that may hold a key is protected as a whole and from its exec: threads, memory read before
# the first read, core dumps, dump signals and limits, perf sampling, inherited fds, credgated itself,
# and the exec index that decides it at exec, alone and while the rules are swapped (two guest CPUs).
# Each attack is tried as another uid (1001), as the same uid outside the identity (1000 outside the
# unit) and as root; each has a control showing the same operation works where credgate is not involved.
source "$(dirname "$0")/lib.sh"
require_enforcement
attack_bin=${CREDGATE_ATTACK:?CREDGATE_ATTACK is not set}
workload_bin=${CREDGATE_WORKLOAD:?CREDGATE_WORKLOAD is not set}

p=/run/pp
mkdir -p "$p" /sys/fs/cgroup/system.slice/agent.service /tmp/cores
chmod 0755 "$p"; chmod 1777 /tmp/cores
echo secret-proc >"$p/cred"; echo plain-data >"$p/plain"
chmod 0644 "$p/cred" "$p/plain"
cp "$attack_bin" /tmp/attack; cp "$workload_bin" /tmp/workload; cp "$workload_bin" /tmp/unbound
chmod 0755 /tmp/attack /tmp/workload /tmp/unbound
printf '#!/bin/sh\nexec 3<"$1"\nexec cat <&3\n' >/tmp/inherit.sh
printf '#!/bin/sh\nexec 3<"$1"\nread -r line <&3\necho "$line"\n' >/tmp/inherit-self.sh
chmod 0755 /tmp/inherit.sh /tmp/inherit-self.sh
[[ -w /proc/sys/kernel/yama/ptrace_scope ]] && echo 0 >/proc/sys/kernel/yama/ptrace_scope
echo -1 >/proc/sys/kernel/perf_event_paranoid
echo '/tmp/cores/core.%p' >/proc/sys/kernel/core_pattern
# The kernel starts core_pattern helpers from the real root, and the guest's command runs chrooted at
# the initramfs's /mnt (tools/vm/run-in-vm): the helper and its output are named from there.
printf '#!/bin/sh\ncat >/mnt/tmp/cores/piped.$1\n' >/tmp/core-catcher; chmod 0755 /tmp/core-catcher

in_unit() { in_cgroup system.slice/agent.service setpriv --reuid "$1" --regid "$1" --clear-groups -- "${@:2}"; }
# start NAME CMD...: run CMD in the background, wait for its ready file, set $pid and $addr.
start() {
  local name=$1; shift
  rm -f "/tmp/$name.ready"
  "$@" >"/tmp/$name.log" 2>&1 &
  for _ in $(seq 300); do [[ -s /tmp/$name.ready ]] && break; sleep 0.1; done
  if [[ ! -s /tmp/$name.ready ]]; then echo "FAIL: $name did not start: $(cat "/tmp/$name.log")"; exit 1; fi
  read -r pid addr <"/tmp/$name.ready"
}
stop() { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ---- the rules: the strongest identity (program + uid + unit); two scripts by path + uid -------
# and one by uid + unit alone (no program named: nothing is protected for running a program).
echo secret-inherit >"$p/cred2"; echo secret-late >"$p/cred3"; chmod 0644 "$p/cred2" "$p/cred3"
mkdir -p /sys/fs/cgroup/system.slice/late.service
"$driver" apply \
  "$p/cred::process:path=/tmp/workload&process:uid=1000&systemd:unit=agent.service" \
  "$p/cred2::process:path=/tmp/inherit.sh&process:uid=1000||process:path=/tmp/inherit-self.sh&process:uid=1000" \
  "$p/cred3::process:uid=1000&systemd:unit=late.service" \
  >/dev/null || { echo "FAIL: apply"; exit 1; }

# ---- 1. threads: the key read by a second thread is in the memory of the whole process --------
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready --thread
expect_read "control: uid 1000 reads /proc/<pid>/mem of its own unprotected threaded process" "STOLEN plain-data" \
  as 1000 /tmp/attack memread "$pid" "$addr"
expect_read "control: uid 1000 reads its own unprotected process with process_vm_readv" "STOLEN plain-data" \
  as 1000 /tmp/attack vmread "$pid" "$addr"
stop "$pid"
start workload in_unit 1000 /tmp/workload "$p/cred" /tmp/workload.ready --thread
for who in 1001 1000; do
  expect_denied "uid $who (outside the unit): /proc/<pid>/mem of a workload whose second thread read the key" \
    as $who /tmp/attack memread "$pid" "$addr"
  expect_denied "uid $who (outside the unit): process_vm_readv of a workload whose second thread read the key" \
    as $who /tmp/attack vmread "$pid" "$addr"
done
expect_denied "root: /proc/<pid>/mem of a workload whose second thread read the key" /tmp/attack memread "$pid" "$addr"
expect_denied "root: process_vm_readv of a workload whose second thread read the key" /tmp/attack vmread "$pid" "$addr"

# ---- perf sampling of the workload's registers and user stack ------------------------------
expect_denied "uid 1000 (outside the unit): perf_event_open sampling the workload's user stack" as 1000 /tmp/attack perf "$pid"
expect_denied "root: perf_event_open sampling the workload's user stack" /tmp/attack perf "$pid"
stop "$pid"
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready
expect_read "control: uid 1000 opens a sampling perf event on its own unprotected process" "perf event" \
  as 1000 /tmp/attack perf "$pid"
stop "$pid"

# ---- 2. too late: /proc/<pid>/mem opened before the workload's first read -----------------
rm -f /tmp/go
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready --after /tmp/go
expect_read "control: /proc/<pid>/mem opened before an unprotected process reads a file shows the file afterwards" \
  "STOLEN plain-data" as 1000 /tmp/attack mem-early "$pid" "$addr" /tmp/go
stop "$pid"
for who in 1001 1000 0; do
  rm -f /tmp/go
  start workload in_unit 1000 /tmp/workload "$p/cred" /tmp/workload.ready --after /tmp/go
  label="uid $who (outside the unit)"; [[ $who == 0 ]] && label=root
  expect_denied "$label: /proc/<pid>/mem opened between the workload's exec and its first read" \
    as $who /tmp/attack mem-early "$pid" "$addr" /tmp/go
  expect_denied "$label: process_vm_readv between the workload's exec and its first read" \
    as $who /tmp/attack vmread "$pid" "$addr"
  stop "$pid"
done

# ---- documented limit: a process that comes to match only after its exec ------------------------
# (README, threat model) It is protected from the moment it matches; a /proc/<pid>/mem handle opened
# before that moment (the kernel checks access when the handle is opened) still reads.
rm -f /tmp/go
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/cred3" /tmp/unbound.ready --after /tmp/go
# Moved into the unit after its exec (no match at exec), before its first read.
echo "$pid" >/sys/fs/cgroup/system.slice/late.service/cgroup.procs
expect_read "documented: uid 1000's /proc/<pid>/mem handle, opened before the workload joined its unit after its exec, reads the key" \
  "STOLEN secret-late" as 1000 /tmp/attack mem-early "$pid" "$addr" /tmp/go
expect_denied "documented: a new /proc/<pid>/mem open after the workload was granted its key is refused" \
  as 1000 /tmp/attack memread "$pid" "$addr"
stop "$pid"

# ---- 3. core dumps, dump signals and limits ---------------------------------------------------
rm -f /tmp/cores/*
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready
expect_ok "control: uid 1000 raises the core limit of its own unprotected process" as 1000 /tmp/attack prlimit-core "$pid"
expect_ok "control: uid 1000 sends SIGSEGV to its own unprotected process" as 1000 kill -SEGV "$pid"
wait "$pid" 2>/dev/null
if grep -qa plain-data /tmp/cores/core.* 2>/dev/null; then pass "control: the unprotected process's core file holds what it read"
else failed "control: no core file with the data: $(ls /tmp/cores)"; fi
start workload in_unit 1000 /tmp/workload "$p/cred" /tmp/workload.ready
for who in 1001 1000 0; do
  label="uid $who (outside the unit)"; [[ $who == 0 ]] && label=root
  expect_denied "$label: prlimit --core=unlimited on the workload" as $who /tmp/attack prlimit-core "$pid"
  for sig in SEGV QUIT ABRT; do
    expect_denied "$label: kill -$sig of the workload" as $who kill -$sig "$pid"
  done
done
expect_ok "control: SIGTERM still stops the workload (only dump signals are refused)" kill -TERM "$pid"
wait "$pid" 2>/dev/null
rm -f /tmp/cores/* /tmp/crash
start workload in_unit 1000 /tmp/workload "$p/cred" /tmp/workload.ready --crash-after /tmp/crash
touch /tmp/crash; wait "$pid" 2>/dev/null
if ls /tmp/cores/core.* >/dev/null 2>&1; then failed "the workload that crashed itself left a core file: $(ls /tmp/cores)"
else pass "a workload that raises its own core limit and crashes leaves no core file"; fi
# With a pipe limit the kernel waits for the helper before the dumping process is reaped.
echo 1 >/proc/sys/kernel/core_pipe_limit
echo '|/mnt/tmp/core-catcher %p' >/proc/sys/kernel/core_pattern
rm -f /tmp/crash
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready --crash-after /tmp/crash
touch /tmp/crash; wait "$pid" 2>/dev/null
if grep -qa plain-data /tmp/cores/piped.* 2>/dev/null; then pass "control: an unprotected crash is piped to the core_pattern helper"
else failed "control: the core_pattern helper got nothing: $(ls /tmp/cores)"; fi
rm -f /tmp/cores/* /tmp/crash
start workload in_unit 1000 /tmp/workload "$p/cred" /tmp/workload.ready --crash-after /tmp/crash
touch /tmp/crash; wait "$pid" 2>/dev/null
if ls /tmp/cores/piped.* >/dev/null 2>&1; then failed "the workload's crash reached the core_pattern pipe: $(ls /tmp/cores)"
else pass "a workload's crash never reaches a core_pattern pipe"; fi
echo '/tmp/cores/core.%p' >/proc/sys/kernel/core_pattern

# ---- 6. inherited fds: the identity opens, a program that is not the identity reads ----------
expect_read "control: an fd of an unprotected file read by cat after exec" plain-data as 1000 /tmp/inherit.sh "$p/plain"
expect_read "the bound script itself reads through the fd it opened" secret-inherit as 1000 /tmp/inherit-self.sh "$p/cred2"
expect_denied "uid 1000: the bound script's fd inherited across exec into cat reads nothing" as 1000 /tmp/inherit.sh "$p/cred2"
expect_denied "uid 1001: the bound script run by another uid cannot open the file" as 1001 /tmp/inherit.sh "$p/cred2"
expect_denied "root: the bound script run as root (not the identity) cannot open the file" /tmp/inherit.sh "$p/cred2"
expect_read "control: an unprotected file can be mmap-ed" plain-data as 1000 /tmp/attack mmap "$p/plain"
expect_denied "uid 1000: mmap of the credential by a program that is not the identity" as 1000 /tmp/attack mmap "$p/cred2"

# ---- 8. credgated's own memory ------------------------------------------------------------------
"$driver" hold >/tmp/hold.out 2>&1 & holder=$!
for _ in $(seq 300); do grep -q ready /tmp/hold.out && break; sleep 0.1; done
setpriv --reuid 0 -- sleep 600 & other=$!
expect_read "control: root opens /proc/<pid>/mem of another root process" opened /tmp/attack mem "$other"
expect_denied "root: /proc/<credgated>/mem" /tmp/attack mem "$holder"
expect_denied "root: ptrace(PTRACE_ATTACH) of credgated" /tmp/attack ptrace "$holder"
expect_denied "root: kill -SEGV of credgated (a dump-triggering signal)" kill -SEGV "$holder"
expect_denied "root: prlimit --core=unlimited on credgated" /tmp/attack prlimit-core "$holder"
stop "$other"; stop "$holder"

# ---- 9. the exec index ------------------------------------------------------------------------------
# At exec, a program a rule names is protected by its trusted-program mark, whoever runs it. Any other
# program is first looked up in the generation's exec index (bpf/README.md): with no alternative that
# names no program it matches nothing, and the binding scan runs only when some alternative (a uid and a
# unit alone) could match it.
named="$p/cred::process:path=/tmp/workload&process:uid=1000"
unnamed="$p/cred3::process:uid=1000&systemd:unit=late.service"
"$driver" apply "$named" >/dev/null || { echo "FAIL: apply (exec index)"; exit 1; }
rm -f /tmp/go
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready --after /tmp/go
expect_read "control (exec index, every rule names a program): uid 1000 reads its own process running a program no rule names" \
  "STOLEN plain-data" as 1000 /tmp/attack mem-early "$pid" "$addr" /tmp/go
stop "$pid"
rm -f /tmp/go
start workload setpriv --reuid 1001 --regid 1001 --clear-groups -- /tmp/workload "$p/plain" /tmp/workload.ready --after /tmp/go
expect_denied "uid 1001: its own process running a program a rule names is protected from its exec (the program's mark), whatever its uid" \
  as 1001 /tmp/attack mem-early "$pid" "$addr" /tmp/go
stop "$pid"
"$driver" apply "$unnamed" >/dev/null || { echo "FAIL: apply (exec index)"; exit 1; }
rm -f /tmp/go
start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready --after /tmp/go
expect_read "control (exec index, a rule names no program): uid 1000 reads its own process running outside the rule's unit" \
  "STOLEN plain-data" as 1000 /tmp/attack mem-early "$pid" "$addr" /tmp/go
stop "$pid"
for who in 1000 0; do
  rm -f /tmp/go
  start unbound in_cgroup system.slice/late.service setpriv --reuid 1000 --regid 1000 --clear-groups -- \
    /tmp/unbound "$p/plain" /tmp/unbound.ready --after /tmp/go
  label="uid $who (outside the unit)"; [[ $who == 0 ]] && label=root
  expect_denied "$label: /proc/<pid>/mem of a process that matches a rule naming no program, opened between its exec and its first read" \
    as $who /tmp/attack mem-early "$pid" "$addr" /tmp/go
  stop "$pid"
done

# ---- 10. execs racing rule swaps (two guest CPUs) ---------------------------------------------------
# The rules are swapped back and forth while processes exec: one set is the unit rule alone, the other
# adds the named program's binding (a second slot, another index entry). The unit rule's process is
# protected from its exec whatever set is live, and the same program outside the unit never is.
rm -f /tmp/race.stop /tmp/race.swaps
(
  swaps=0
  while [[ ! -e /tmp/race.stop ]]; do
    "$driver" apply "$unnamed" "$named" >/dev/null && "$driver" apply "$unnamed" >/dev/null ||
      { echo "apply failed" >/tmp/race.swaps; exit 1; }
    swaps=$((swaps + 2)); echo "$swaps" >/tmp/race.swaps
  done
) & swapper=$!
# Rounds go on until the swapper has made 8 swaps (each one a credgate-enforce-test run, seconds long
# under TCG), and for at least 20 rounds.
swaps_done() { local n; n=$(cat /tmp/race.swaps 2>/dev/null || echo 0); [[ $n =~ ^[0-9]+$ ]] && echo "$n" || echo -1; }
rounds=0 protected=0 unprotected=0 race_errors=()
while ((rounds < 20 || $(swaps_done) < 8)); do
  (($(swaps_done) < 0 || rounds >= 400)) && break  # the swapper failed, or stopped swapping
  round=$((rounds += 1))
  start unbound in_cgroup system.slice/late.service setpriv --reuid 1000 --regid 1000 --clear-groups -- \
    /tmp/unbound "$p/plain" /tmp/unbound.ready --after /tmp/never
  if out=$(as 1000 /tmp/attack memread "$pid" "$addr" 2>&1) || [[ "$out" == *"nothing in memory yet"* ]]; then
    race_errors+=("round $round: a process of the unit rule was readable after its exec: $out")
  elif [[ "$out" == *"ermission denied"* || "$out" == *"not permitted"* ]]; then protected=$((protected + 1))
  else race_errors+=("round $round: memread failed for another reason: $out"); fi
  stop "$pid"
  start unbound setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/unbound "$p/plain" /tmp/unbound.ready --after /tmp/never
  # It holds nothing yet: an open /proc/<pid>/mem finds its buffer empty.
  out=$(as 1000 /tmp/attack memread "$pid" "$addr" 2>&1)
  if [[ "$out" == *"nothing in memory yet"* ]]; then unprotected=$((unprotected + 1))
  else race_errors+=("round $round: control: the same program outside the unit: $out"); fi
  stop "$pid"
done
touch /tmp/race.stop; wait "$swapper"
swaps=$(cat /tmp/race.swaps 2>/dev/null)
if [[ ! $swaps =~ ^[0-9]+$ ]]; then failed "execs racing rule swaps: the swapper stopped: ${swaps:-no swap done}"
elif ((swaps < 8)); then failed "execs racing rule swaps: only $swaps swaps during $((2 * rounds)) execs"
elif ((${#race_errors[@]})); then failed "execs racing rule swaps ($swaps swaps): ${race_errors[*]:0:3}"
else pass "execs racing $swaps rule swaps on two CPUs: the unit rule's process protected from its exec $protected/$rounds times, the same program outside the unit readable $unprotected/$rounds times (control)"; fi

finish
