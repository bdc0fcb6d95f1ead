#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The seed scenario as an operator runs it, in one boot: credgate.ko loaded, devvault set up with the
# seed's steps, credgated enforcing with the shipped example policies/examples/ai-agent-openai.yaml
# unchanged. The agent (its program, in ai-agent.service) reads
# /sys/module/credgate/credentials/<uuid>/crb-<binding>/vault.json and its key works; every other
# process is refused, through any mount of sysfs; credgated killed and restarted keeps the node
# protected with no window; a leftover node of a binding that went away is removed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
require_enforcement
attack=${CREDGATE_ATTACK:?CREDGATE_ATTACK is not set}
ko=${CREDGATE_KMOD:?CREDGATE_KMOD is not set}
example=${CREDGATE_SOURCE_ROOT:?CREDGATE_SOURCE_ROOT is not set}/policies/examples/ai-agent-openai.yaml

w=$CREDGATE_VM_SCRATCH/seed
root=$w/credentials           # the file backend's root: unused while the module is loaded
sysroot=/sys/module/credgate/credentials
binding=vault-openai-apikeys-binding
unit=system.slice/ai-agent.service
mkdir -p "$w/policies.d" "$w/keys" "$w/intruder"
chmod 0755 "$w" "$w/intruder"
chown 1000:1000 "$w/keys"; chmod 0700 "$w/keys"

in_unit() { in_cgroup "$unit" "$@"; }

# ---- the module, the agent's program and its unit ----------------------------------------------
insmod "$ko" || die "insmod $ko failed"
[[ -d $sysroot && -c /dev/credgate ]] || die "credgate.ko loaded but $sysroot or /dev/credgate is missing"
# The example names /opt/ai-agent/bin/ai-agent; the guest sees the host's root read-only, so /opt is
# a tmpfs of the guest's own.
mount -t tmpfs -o mode=0755 tmpfs /opt
mkdir -p /opt/ai-agent/bin
agent=/opt/ai-agent/bin/ai-agent
install -m 0755 "$(dirname "$0")/openai_agent.py" "$agent"
cp "$agent" "$w/intruder/copy-of-agent"
mkdir -p "$w/intruder/bin"; cp /bin/cat "$w/intruder/bin/ai-agent"   # comm "ai-agent"
chmod -R 0755 "$w/intruder"
mkdir -p "/sys/fs/cgroup/$unit"
agent_as() { in_unit setpriv --reuid "$1" --regid "$1" --clear-groups -- "${@:2}"; }

# ---- devvault with the seed's operator steps ---------------------------------------------------
start_devvault seed-root proj_seed
start_credgated seed-node auto
require_enforcing
[[ $(ctl status --json | json_get daemon.delivery.sysfs.moduleLoaded) == True ]] || die "credgated does not see credgate.ko"
pass "credgated enforcing, credgate.ko loaded (credgatectl status)"

seed_openai                                                                                 # steps 1-4
seed_jwt "$issuer"                                                                          # steps 5-6
seed_jwt_role openai-apikeys ai-agent                                                       # step 7

# ---- the shipped example, unchanged ------------------------------------------------------------
cp "$example" "$w/policies.d/ai-agent-openai.yaml"
ctl reload >/dev/null || die "credgatectl reload failed: $(ctl reload 2>&1 | tail -n 3)"
poll 120 bound $binding || die "the binding did not reach OK: $(ctl status 2>&1 | tail -n 4)"
file=$(ctl get binding $binding -o json | json_get status.sysfs.files.0.path)
uuid=$(spiffe_uuid ai-agent)
if [[ $file == "$sysroot/$uuid/crb-$binding/vault.json" && -f $file ]]; then
  pass "status.sysfs.files names $file"
else
  die "unexpected credential path '$file' (wanted $sysroot/$uuid/crb-$binding/vault.json)"
fi
yaml=$(ctl get binding $binding -o yaml)
if grep -q '^  sysfs:' <<<"$yaml" && grep -q "path: $file" <<<"$yaml" && grep -q 'type: CREDENTIAL' <<<"$yaml"; then
  pass "credgatectl get binding -o yaml shows status.sysfs.files with the path and type CREDENTIAL"
else
  failed "get -o yaml: $(grep -A6 'sysfs' <<<"$yaml" | tr '\n' ' ')"
fi
if [[ $(stat -c '%a %U' "$file") == "444 root" ]] && grep -q 'the kernel programs are the only gate' <<<"$yaml"; then
  pass "the identity pins no uid: the node is root's 0444 and status says the kernel programs are the only gate"
else
  failed "owner/mode $(stat -c '%a %U' "$file"), note: $(grep note <<<"$yaml")"
fi
ino=$(stat -c %i "$file")

# ---- the agent reads; nobody else does ---------------------------------------------------------
expect_read "the agent (its program, in ai-agent.service) reads vault.json and its key works on /v1/models" \
  "'api_key', 'api_key_id', 'service_account', 'service_account_id']; GET /v1/models -> 200" \
  agent_as 1000 "$agent" "$file" "$openai" "$w/keys/first"
expect_denied "intruder: cat as another uid (1001)" as 1001 cat "$file"
expect_denied "intruder: cat as root" cat "$file"
expect_denied "intruder: the agent's program outside its unit (uid 1000)" as 1000 "$agent" "$file" "$openai" "$w/keys/x"
expect_denied "intruder: the agent's program outside its unit as root" "$agent" "$file" "$openai" "$w/keys/x"
expect_denied "intruder: a copy of the agent's program in its unit" agent_as 1000 "$w/intruder/copy-of-agent" "$file" "$openai" "$w/keys/x"
expect_denied "intruder: a program named ai-agent in its unit" agent_as 1000 "$w/intruder/bin/ai-agent" "$file"
expect_denied "intruder: root re-opens an O_PATH fd of the node through /proc/self/fd" \
  sh -c 'touch "$0/go"; exec "$1" opath-reopen "$2" "$0/held" "$0/go"' "$w" "$attack" "$file"
expect_denied "intruder: root maps the node" "$attack" mmap "$file"
echo '{"api_key":"sk-attacker"}' >"$w/fake.json"
expect_denied "root: bind mount over vault.json" "$attack" mount-bind "$w/fake.json" "$file"
expect_denied "root: tmpfs over the binding directory" "$attack" mount-tmpfs "$(dirname "$file")"
expect_denied "root: chmod of the node" chmod 0666 "$file"
expect_denied "root: setting an xattr on the node" "$attack" setxattr "$file"
ctrl=$sysroot/../refcnt
expect_ok "control: root bind-mounts over another file of credgate.ko's sysfs directory" \
  sh -c '"$0" mount-bind "$1" "$2" && umount "$2"' "$attack" "$w/fake.json" "$ctrl"

# ---- another mount of sysfs: another super block, another st_dev, the same node ----------------
mkdir -p /tmp/sys-netns
if unshare --net mount -t sysfs sysfs /tmp/sys-netns; then
  other=/tmp/sys-netns/module/credgate/credentials/$uuid/crb-$binding/vault.json
  if [[ -f $other && $(stat -c %d "$other") != $(stat -c %d "$file") && $(stat -c %i "$other") == "$ino" ]]; then
    pass "a sysfs mounted for another network namespace shows the node under another st_dev, same inode"
  else
    failed "other sysfs mount: $(stat -c '%d %i' "$other" "$file" 2>&1 | tr '\n' ' ')"
  fi
  expect_denied "intruder: cat as root through the other sysfs mount" cat "$other"
  expect_denied "intruder: cat as uid 1001 through the other sysfs mount" as 1001 cat "$other"
  expect_read "control: the agent reads through the other sysfs mount" "-> 200" \
    agent_as 1000 "$agent" "$other" "$openai" "$w/keys/netns"
  umount /tmp/sys-netns
else
  failed "could not mount sysfs for another network namespace"
fi
# An unprivileged user can make such a mount too (a user namespace owning a network namespace); it is
# the same case, another super block over the same node. It is not tried here because the guest runs
# chrooted, and unshare(CLONE_NEWUSER) refuses every caller in a chroot (EPERM).

# ---- credgated killed and restarted: no moment without protection -----------------------------
# The prober writes one line per attempt and one per success; both files are its own to write.
: >"$w/leaks"; : >"$w/tries"; chown 1001 "$w/leaks" "$w/tries"
as 1001 sh -c 'while [ ! -e "$0/stop" ]; do echo >>"$0/tries"; cat "$1" >/dev/null 2>&1 && echo leak >>"$0/leaks"; done' "$w" "$file" &
prober=$!
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
expect_denied "after kill -9 of credgated: root is still refused" cat "$file"
expect_read "after kill -9 of credgated: the agent still reads" "-> 200" agent_as 1000 "$agent" "$file" "$openai" "$w/keys/after-kill"
"$credgated" --config "$w/credgate.yaml" 2>"$w/credgated2.log" &
daemon=$!
poll 90 ctl status && poll 120 bound $binding || die "restarted credgated did not bring the binding back"
touch "$w/stop"; wait $prober
if grep -q "Kept '$file' from the previous credgated" "$w/credgated2.log" && [[ $(stat -c %i "$file") == "$ino" ]]; then
  pass "restarted credgated kept the node (same inode) the kernel still protected"
else
  failed "restart: $(grep -m2 -E 'Kept|Removed' "$w/credgated2.log") inode $(stat -c %i "$file") was $ino"
fi
tries=$(wc -l <"$w/tries")
if [[ ! -s $w/leaks && $tries -gt 0 ]]; then pass "uid 1001 reading in a loop across the kill and restart ($tries tries) never got the key"
else failed "uid 1001 read the node $(wc -l <"$w/leaks") time(s) in $tries tries across the restart"; fi
expect_read "after the restart the agent reads and its key works" "-> 200" agent_as 1000 "$agent" "$file" "$openai" "$w/keys/restarted"
expect_denied "after the restart root is still refused" cat "$file"

# ---- a binding that went away while credgated was down: its node is removed at start -----------
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
rm -f "$w/policies.d/ai-agent-openai.yaml"
"$credgated" --config "$w/credgate.yaml" 2>"$w/credgated3.log" &
daemon=$!
poll 90 ctl status || die "credgated did not start again"
if [[ ! -e $file ]] && grep -q "Removed '$file' left by a previous credgated: no binding publishes it" "$w/credgated3.log"; then
  pass "a node no binding publishes any more is removed when credgated starts"
else
  failed "leftover node: $(ls -l "$file" 2>&1); $(grep -m1 -E 'Removed|Kept' "$w/credgated3.log")"
fi

# ---- a clean stop removes the node; the module unloads ------------------------------------------
cp "$example" "$w/policies.d/ai-agent-openai.yaml"
ctl reload >/dev/null && poll 120 bound $binding || die "the binding did not come back after reload"
[[ -f $file ]] || die "no node after the reload"
kill -TERM "$daemon"; wait "$daemon"
rc=$?
if [[ $rc == 0 && -z $(find "$sysroot" -mindepth 1 2>/dev/null) ]]; then pass "SIGTERM: credgated exits 0 and removes every node it published"
else failed "SIGTERM: exit $rc, left: $(find "$sysroot" -mindepth 1 2>&1 | head -3 | tr '\n' ' ')"; fi
expect_ok "rmmod credgate after credgated stopped" rmmod credgate
finish
