# SPDX-License-Identifier: Apache-2.0
# Attacks on a running bound agent's credential, from the agent's own uid (1000) and another (1001):
# each must fail, and each has a control showing the same operation works where credgate is not involved.
# Run once on files (vm attacks) and once on credgate.ko's sysfs nodes (vm attacks_sysfs).
source "$(dirname "$0")/lib.sh"
require_enforcement
here=$(cd "$(dirname "$0")" && pwd)
inject=${CREDGATE_INJECT_LIB:?CREDGATE_INJECT_LIB is not set}
root_as() { "$@"; }
in_agent_unit() { in_cgroup system.slice/agent.service setpriv --reuid "$1" --regid "$1" --clear-groups -- "${@:2}"; }

# The credentials: files in a directory every uid may change (file backend), or nodes of credgate.ko
# (CREDGATE_CRED_BACKEND=sysfs), root's and 0444. Either way DAC lets every uid read them: each
# refusal below is credgate's.
backend=${CREDGATE_CRED_BACKEND:-file}
mkdir -p /run/decoys /sys/fs/cgroup/system.slice/agent.service
chmod 0777 /run/decoys
if [[ $backend == sysfs ]]; then
  kmod_ctl=${CREDGATE_KMOD_CTL:?CREDGATE_KMOD_CTL is not set}
  insmod "${CREDGATE_KMOD:?CREDGATE_KMOD is not set}" || { echo "FAIL: insmod credgate.ko"; exit 1; }
  uuid=0b6b2c3e-1f0a-5d2e-8c4b-7a9e6f5d4c3b
  cg=/sys/module/credgate/credentials/$uuid/crb-attacks
  for pair in cred:secret-agent cred2:secret-bin cred3:secret-unit; do
    "$kmod_ctl" create $uuid crb-attacks "${pair%%:*}" >/dev/null
    echo "${pair#*:}" | "$kmod_ctl" replace $uuid crb-attacks "${pair%%:*}" >/dev/null
  done
  [[ $(stat -c '%a %U' "$cg/cred") == "444 root" ]] || { echo "FAIL: credgate.ko node: $(ls -l "$cg" 2>&1)"; exit 1; }
  echo "credentials: credgate.ko nodes under $cg"
else
  cg=/run/cg
  mkdir -p "$cg"
  chmod 0777 "$cg"   # DAC lets every uid rename/unlink here: only credgate can refuse
  echo secret-agent >"$cg/cred"; echo secret-bin >"$cg/cred2"; echo secret-unit >"$cg/cred3"
  for f in "$cg/cred" "$cg/cred2" "$cg/cred3"; do chown 1000:1000 "$f"; chmod 0644 "$f"; done
fi
install -m 0755 -o 1000 -g 1000 "$here/agent.py" /tmp/agent.py
install -m 0755 -o 1000 -g 1000 "$here/agent.py" /tmp/copy.py
cp "${CREDGATE_ATTACK:?CREDGATE_ATTACK is not set}" /tmp/attack; chmod 0755 /tmp/attack
cp /bin/cat /tmp/agent-cat
mkdir -p /tmp/inject
printf 'import os\ntry:\n    print("STOLEN", open("'"$cg"'/cred").read(), flush=True)\n    os._exit(0)\nexcept OSError as e:\n    print("injected:", e, flush=True)\n    os._exit(1)\n' >/tmp/inject/sitecustomize.py
[[ -w /proc/sys/kernel/yama/ptrace_scope ]] && echo 0 >/proc/sys/kernel/yama/ptrace_scope

# ---- controls: without credgate these operations work ---------------------------------------
newdecoy() { echo decoy >"/run/decoys/$1"; chown 1000:1000 "/run/decoys/$1"; chmod 0644 "/run/decoys/$1"; }
for d in a b c e; do newdecoy $d; done
setpriv --reuid 1000 --regid 1000 --clear-groups -- sleep 600 & victim=$!
# The controls below need the victim running as uid 1000: wait for setpriv's exec of sleep.
for _ in $(seq 300); do [[ $(readlink "/proc/$victim/exe") == */sleep ]] && break; sleep 0.1; done
expect_ok "control: uid 1000 hard-links, renames, chmods and unlinks its unprotected file" \
  as 1000 sh -c 'ln /run/decoys/a /run/decoys/a.link && mv /run/decoys/b /run/decoys/b2 && chmod 0600 /run/decoys/c && rm /run/decoys/a.link'
expect_ok "control: root sets a trusted.* xattr on an unprotected file" /tmp/attack setxattr /run/decoys/e
expect_read "control: uid 1000 ptraces its own unprotected process" attached as 1000 /tmp/attack ptrace $victim
expect_read "control: uid 1000 opens /proc/<pid>/mem of its own unprotected process" opened as 1000 /tmp/attack mem $victim
expect_ok "control: uid 1000 takes an fd of its own unprotected process with pidfd_getfd" as 1000 /tmp/attack pidfd-getfd $victim 0
expect_ok "control: bpftool lists programs and maps before credgate loads" sh -c 'bpftool prog show >/dev/null && bpftool map show >/dev/null'
kill $victim

"$driver" apply --dir "$cg" \
  "$cg/cred::process:path=/tmp/agent.py&process:uid=1000&systemd:unit=agent.service" \
  "$cg/cred2::process:path=/tmp/agent-cat&process:uid=1000" \
  "$cg/cred3::process:path=/tmp/agent-cat&systemd:unit=agent.service" || { echo "FAIL: apply"; exit 1; }

# ---- the agent: bound by script + uid + unit, holds its credential open ---------------------
in_agent_unit 1000 /tmp/agent.py "$cg/cred" /tmp/agent.sock /tmp/agent.ready &
for _ in $(seq 300); do [[ -s /tmp/agent.ready ]] && break; sleep 0.1; done
if [[ ! -s /tmp/agent.ready ]]; then echo "FAIL: the bound agent did not open its credential"; exit 1; fi
read -r agent agent_fd </tmp/agent.ready
pass "the bound agent (script, uid 1000, agent.service) opened its credential"
expect_read "control: a second instance of the agent receives the fd over the unix socket" secret-agent \
  in_agent_unit 1000 /tmp/agent.py client /tmp/agent.sock
expect_read "control: LD_PRELOAD inside the identity (uid 1000 runs agent-cat) is the identity itself" "STOLEN secret-bin" \
  as 1000 env LD_PRELOAD="$inject" CREDGATE_INJECT_FILE="$cg/cred2" /tmp/agent-cat /dev/null

for who in 1000 1001; do
  expect_denied "uid $who: prctl(PR_SET_NAME) to the agent's comm, in the agent's unit" in_agent_unit $who /tmp/attack prctl-comm agent.py "$cg/cred"
  expect_denied "uid $who: writing the agent's comm to /proc/self/comm" in_agent_unit $who /tmp/attack proc-comm agent.py "$cg/cred"
  expect_denied "uid $who: a copy of the agent's script, in the agent's unit" in_agent_unit $who /tmp/copy.py "$cg/cred" /tmp/x.sock /tmp/x.ready
  expect_denied "uid $who: re-opening /proc/<agent>/fd/N" as $who cat /proc/$agent/fd/$agent_fd
  expect_denied "uid $who: receiving the agent's fd over its unix socket" as $who /tmp/attack recvfd /tmp/agent.sock
  expect_denied "uid $who: pidfd_getfd of the agent's fd" as $who /tmp/attack pidfd-getfd $agent $agent_fd
  expect_denied "uid $who: ptrace(PTRACE_ATTACH) of the agent" as $who /tmp/attack ptrace $agent
  expect_denied "uid $who: open /proc/<agent>/mem" as $who /tmp/attack mem $agent
  expect_denied "uid $who: hard-linking the credential" as $who ln "$cg/cred" "$cg/cred.link"
  expect_denied "uid $who: renaming the credential" as $who mv "$cg/cred" "$cg/cred.moved"
  expect_denied "uid $who: unlinking the credential" as $who rm -f "$cg/cred"
done
expect_denied "uid 1001: LD_PRELOAD into the bound binary under another uid" as 1001 env LD_PRELOAD="$inject" CREDGATE_INJECT_FILE="$cg/cred2" /tmp/agent-cat /dev/null
expect_read "control: LD_PRELOAD into agent-cat inside agent.service is the identity itself" "STOLEN secret-unit" \
  in_agent_unit 1000 env LD_PRELOAD="$inject" CREDGATE_INJECT_FILE="$cg/cred3" /tmp/agent-cat /dev/null
expect_denied "uid 1000: LD_PRELOAD into the bound binary outside its unit" as 1000 env LD_PRELOAD="$inject" CREDGATE_INJECT_FILE="$cg/cred3" /tmp/agent-cat /dev/null
expect_denied "uid 1000 (owner): chmod of the credential" as 1000 chmod 0666 "$cg/cred"
expect_denied "uid 1000 (owner): appending to the trusted script in place" as 1000 sh -c 'echo "#" >> /tmp/agent.py'
expect_denied "uid 1000: the agent's script outside its unit with PYTHONPATH code injection" as 1000 env PYTHONPATH=/tmp/inject /tmp/agent.py "$cg/cred" /tmp/y.sock /tmp/y.ready
expect_denied "uid 1001: the agent's script inside its unit with PYTHONPATH code injection" in_agent_unit 1001 env PYTHONPATH=/tmp/inject /tmp/agent.py "$cg/cred" /tmp/y.sock /tmp/y.ready
expect_denied "root: re-opening /proc/<agent>/fd/N" cat /proc/$agent/fd/$agent_fd
expect_denied "root: ptrace(PTRACE_ATTACH) of the agent" /tmp/attack ptrace $agent
expect_denied "root: open /proc/<agent>/mem" /tmp/attack mem $agent
expect_denied "root: pidfd_getfd of the agent's fd" /tmp/attack pidfd-getfd $agent $agent_fd
# A hard link stays on its file system: on sysfs the only "elsewhere" is another sysfs directory.
[[ $backend == sysfs ]] && elsewhere=$(dirname "$cg")/stolen || elsewhere=/run/stolen
expect_denied "root: hard-linking the credential elsewhere" ln "$cg/cred" "$elsewhere"
expect_denied "root: renaming the credential" mv "$cg/cred" /run/stolen
expect_denied "root: unlinking the credential" rm -f "$cg/cred"
expect_denied "root: chmod of the credential" chmod 0666 "$cg/cred"
expect_denied "root: chown of the credential" chown 1001 "$cg/cred"
expect_denied "root: truncating the credential" truncate -s 0 "$cg/cred"
expect_denied "root: setting an xattr on the credential" /tmp/attack setxattr "$cg/cred"
expect_denied "root: moving another file into the credential directory" mv /run/decoys/e "$cg/e"
expect_denied "root: modifying the trusted script in place" sh -c 'echo "#" >> /tmp/agent.py'
expect_denied "root: truncating the trusted script" truncate -s 0 /tmp/agent.py
touch /tmp/bound
if mount --bind "$cg/cred" /tmp/bound 2>/dev/null; then
  expect_denied "uid 1001: reading the credential through a bind mount" as 1001 cat /tmp/bound
  expect_denied "root: reading the credential through a bind mount" cat /tmp/bound
  umount /tmp/bound
else
  failed "bind mount of the credential could not be made to test it"
fi

# ---- self-protection ---------------------------------------------------------------------
expect_denied "root: bpftool prog show (our programs refuse to be opened)" bpftool prog show
expect_denied "root: bpftool map show (our maps refuse to be opened)" bpftool map show
expect_denied "root: bpftool link show (our links refuse to be opened)" bpftool link show
expect_denied "root: bpftool map dump of the pinned objects map" bpftool map dump pinned /sys/fs/bpf/credgate/maps/credgate_objects
expect_denied "root: bpftool map update of the pinned objects map" bpftool map delete pinned /sys/fs/bpf/credgate/maps/credgate_objects key hex 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
expect_denied "root: bpftool link show of a pinned link" bpftool link show pinned /sys/fs/bpf/credgate/links/credgate_file_open
expect_denied "root: unpinning the file_open link" rm -f /sys/fs/bpf/credgate/links/credgate_file_open
expect_denied "root: renaming the link pin" mv /sys/fs/bpf/credgate/links/credgate_file_open /sys/fs/bpf/x
expect_denied "root: unpinning the objects map" rm -f /sys/fs/bpf/credgate/maps/credgate_objects
expect_denied "root: removing the pin directory" rm -rf /sys/fs/bpf/credgate
bpftool map create /sys/fs/bpf/other type hash key 4 value 4 entries 1 name other 2>/dev/null
expect_ok "control: root still opens a map that is not credgate's" bpftool map show pinned /sys/fs/bpf/other

# ---- still enforcing after all that --------------------------------------------------------
expect_denied "after the attacks an unbound reader is still refused" as 1001 cat "$cg/cred"
expect_read "after the attacks the agent's second instance still reads" secret-agent in_agent_unit 1000 /tmp/agent.py client /tmp/agent.sock

# ---- audit ---------------------------------------------------------------------------------
setpriv --reuid 1001 --regid 1001 --clear-groups -- /tmp/attack open-and-wait "$cg/cred" >/tmp/live.out & live=$!
# It prints its refusal once the open has been denied, and the ring keeps the record until it is read.
for _ in $(seq 300); do [[ -s /tmp/live.out ]] && break; sleep 0.1; done
audit=$("$driver" audit --count 2000 --timeout-ms 1500)
if grep -q '"hook":"file_open","verdict":"deny".*"comm":"attack","exe":"/tmp/attack"' <<<"$audit"; then
  pass "audit: a denial is a JSON line with hook, verdict, comm and exe path"
else
  failed "audit: no file_open deny line naming /tmp/attack: $(grep -m1 deny <<<"$audit" | head -c 400)"
fi
kill $live 2>/dev/null
flood=$(as 1001 /tmp/attack flood "$cg/cred" 300)
flood_pid=$(awk '{print $2}' <<<"$flood")
lines=$("$driver" audit --count 2000 --timeout-ms 1500 | grep -c "\"tgid\":$flood_pid," || true)
if [[ "$flood" == *"denied 300"* && $lines -ge 1 && $lines -le 48 ]]; then
  pass "audit: 300 denials of one process are rate-limited to $lines lines"
else
  failed "audit: rate limit: '$flood' produced $lines lines"
fi
"$driver" apply --mode audit --dir "$cg" \
  "$cg/cred::process:path=/tmp/agent.py&process:uid=1000&systemd:unit=agent.service" \
  "$cg/cred2::process:path=/tmp/agent-cat&process:uid=1000" >/dev/null
expect_read "audit mode: an unbound reader is let through" secret-agent as 1001 cat "$cg/cred"
if "$driver" audit --count 2000 --timeout-ms 1500 | grep -q '"verdict":"audit-deny"'; then pass "audit mode: the would-be denial is logged as audit-deny"
else failed "audit mode: no audit-deny line"; fi
"$driver" apply --mode enforce --dir "$cg" \
  "$cg/cred::process:path=/tmp/agent.py&process:uid=1000&systemd:unit=agent.service" \
  "$cg/cred2::process:path=/tmp/agent-cat&process:uid=1000" >/dev/null
expect_denied "enforce mode again: the unbound reader is refused" as 1001 cat "$cg/cred"

finish
