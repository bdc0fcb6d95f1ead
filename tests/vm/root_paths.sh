# SPDX-License-Identifier: Apache-2.0
# The paths past enforcement that do not go through open() of the credential's name: retired files
# reached through an O_PATH fd, new entries and mounts in credential directories, unmounting our bpffs,
# the kernel's memory-reading interfaces, tasks that predate the programs, stale trusted-program marks,
# and a dup2() race against the link-detach check (run with two guest CPUs). Each attack has a control.
source "$(dirname "$0")/lib.sh"
require_enforcement
attack_bin=${CREDGATE_ATTACK:?CREDGATE_ATTACK is not set}
cp "$attack_bin" /tmp/attack; chmod 0755 /tmp/attack
cp "$attack_bin" /tmp/early; chmod 0755 /tmp/early
cp "$attack_bin" /tmp/bound-reader; chmod 0755 /tmp/bound-reader
root=/run/rp
uuid=0d9c6f2e-6f8e-5b8a-9a8e-1f2e3d4c5b6a
mkdir -p "$root" /run/plain /run/wr /run/wr2
chmod 0755 "$root"; chmod 0777 /run/plain /run/wr /run/wr2
echo plain >/run/plain/file; chmod 0644 /run/plain/file
echo pre >/run/plain/pre; chmod 0644 /run/plain/pre

# ---- before anything is loaded: controls, and a task that predates the programs ------------------
expect_ok "control: root opens /proc/kcore before credgate loads" /tmp/attack openonly /proc/kcore
expect_ok "control: root opens /dev/mem before credgate loads" /tmp/attack openonly /dev/mem
mkdir -p /run/otherbpf && mount -t bpf bpf /run/otherbpf
expect_ok "control: root unmounts a bpffs that holds no credgate pins" /tmp/attack umount /run/otherbpf
rm -f /tmp/go-early
setpriv --reuid 1000 --regid 1000 --clear-groups -- /tmp/early wait-open /tmp/go-early /run/plain/pre >/tmp/early.log 2>&1 &
early=$!

# /run/wr: a credential directory whose DAC lets everyone create entries: only credgate refuses.
"$driver" apply --dir /run/wr "/run/plain/pre::process:path=/tmp/early&process:uid=1000" \
  "-::process:path=/tmp/bound-reader&process:uid=1000" "-::process:uid=1000" >/dev/null || { echo "FAIL: apply"; exit 1; }

# ---- PR_SET_MM_EXE_FILE class: a task without an exec record never matches a program rule --------
touch /tmp/go-early; wait $early
if grep -q "Permission denied" /tmp/early.log; then
  pass "a task started before the programs loaded is refused its program's credential (its mm->exe_file is not trusted)"
else failed "the task that predates the programs read the credential: $(cat /tmp/early.log)"; fi
expect_read "control: the same program started after the load reads its credential" pre \
  as 1000 /tmp/early open /run/plain/pre

# ---- 4. the retired file: an O_PATH fd held across a rotation ---------------------------------
publish() { "$driver" publish "$root" "$uuid" agent 1 "$1" >/dev/null; }
bound_read() { as 1000 /tmp/bound-reader open "$@"; }
publish key-one || { echo "FAIL: publish"; exit 1; }
file=$root/$uuid/crb-agent/vault.json
expect_read "the identity (its program, uid 1000) reads the first key" key-one bound_read "$file"
cp /run/plain/file /run/plain/rot; chmod 0644 /run/plain/rot
rm -f /tmp/go /tmp/held
as 1001 /tmp/attack opath-reopen /run/plain/rot /tmp/held /tmp/go >/tmp/ctl.log 2>&1 & c=$!
for _ in $(seq 300); do [[ -e /tmp/held ]] && break; sleep 0.1; done
echo replaced >/run/plain/rot.new && mv /run/plain/rot.new /run/plain/rot
touch /tmp/go; wait $c
expect_read "control: an O_PATH fd held across a rename re-opens the old unprotected file" plain cat /tmp/ctl.log
# hold_across_rotation LABEL PROGRAM UID: PROGRAM (as UID) holds an O_PATH fd of the credential across
# a rotation, then re-opens it through /proc/self/fd; the output is in /tmp/held.log.
hold_across_rotation() {
  rm -f /tmp/go /tmp/held
  as "$3" "$2" opath-reopen "$file" /tmp/held /tmp/go >/tmp/held.log 2>&1 & h=$!
  for _ in $(seq 300); do [[ -e /tmp/held ]] && break; sleep 0.1; done
  retired_ino=$(stat -c %i "$file")
  publish "key-after-$1" || failed "rotation failed"
  touch /tmp/go; wait $h
}
n=0
for who in "uid 1001:1001" "uid 1000 outside the identity (another program):1000" "root:0"; do
  label=${who%%:*}; uid=${who##*:}; n=$((n + 1))
  hold_across_rotation "$n" /tmp/attack "$uid"
  if grep -q "key-" /tmp/held.log; then failed "$label re-opened the retired key: $(cat /tmp/held.log)"
  elif grep -q "Permission denied" /tmp/held.log; then
    pass "$label: re-opening the retired credential through /proc/self/fd after a rotation is refused"
  else failed "$label: the re-open failed for another reason: $(cat /tmp/held.log)"; fi
  if "$driver" objects | grep -q " $retired_ino binding="; then
    failed "the retired inode $retired_ino is still in the objects map after everything that reached it was closed"
  else pass "the kernel dropped the retired inode's entry once nothing reached it any more ($label's fd closed)"; fi
done
hold_across_rotation identity /tmp/bound-reader 1000
if grep -q "key-" /tmp/held.log; then pass "the identity itself may re-open the retired file of its own binding (it could read it before)"
else failed "the identity could not re-open its retired file: $(cat /tmp/held.log)"; fi
expect_read "after the rotations the identity reads the current key" key-after-identity bound_read "$file"

# ---- 10. new entries in the credential directories ----------------------------------------------
expect_ok "control: root creates a file, a directory, a symlink and a fifo in an unprotected directory" \
  sh -c 'touch /run/plain/t && mkdir /run/plain/d && ln -s /etc/passwd /run/plain/l && mkfifo /run/plain/f'
for dir in "$root/$uuid/crb-agent" "$root/$uuid" "$root"; do
  expect_denied "root: touch in $dir" touch "$dir/new"
  expect_denied "root: mkdir in $dir" mkdir "$dir/newdir"
  expect_denied "root: ln -s in $dir" ln -s /etc/passwd "$dir/link"
  expect_denied "root: mkfifo in $dir" mkfifo "$dir/fifo"
done
expect_ok "control: uid 1001 creates a file in a world-writable unprotected directory" as 1001 touch /run/wr2/new
expect_denied "uid 1001: touch in a world-writable credential directory" as 1001 touch /run/wr/new
expect_denied "uid 1001: a symlink named like a future credential in a world-writable credential directory" \
  as 1001 ln -s /tmp/x /run/wr/vault.json
expect_denied "root: chmod of a credential directory" chmod 0777 "$root/$uuid/crb-agent"

# ---- 11. mounts over what the workload reads, and unmounting the credential tree --------------
echo fake >/tmp/fake; mkdir -p /tmp/fakedir
touch /run/plain/target
expect_ok "control: root bind-mounts over an unprotected file" /tmp/attack mount-bind /tmp/fake /run/plain/target
umount /run/plain/target
expect_denied "root: bind mount over vault.json" /tmp/attack mount-bind /tmp/fake "$file"
expect_denied "root: bind mount over the binding directory" /tmp/attack mount-bind /tmp/fakedir "$root/$uuid/crb-agent"
expect_denied "root: tmpfs mounted over the workload directory" /tmp/attack mount-tmpfs "$root/$uuid"
expect_denied "root: tmpfs mounted over the credential root" /tmp/attack mount-tmpfs "$root"
expect_read "the identity still reads the real key after the mount attempts" key-after-identity bound_read "$file"

# ---- 9. our bpffs: unmounting it would drop the last reference to the links -------------------
expect_denied "root: umount -l /sys/fs/bpf" /tmp/attack umount /sys/fs/bpf
expect_denied "root: umount -l /sys/fs/bpf in a new mount namespace" unshare -m /tmp/attack umount /sys/fs/bpf
expect_denied "after the umount attempts an unbound reader is still refused" as 1001 cat "$file"

# ---- 7. the kernel's memory-reading interfaces ------------------------------------------------
expect_denied "root: open /proc/kcore" /tmp/attack openonly /proc/kcore
expect_denied "root: open /dev/mem" /tmp/attack openonly /dev/mem

# ---- documented limits (README, threat model) ---------------------------------------------------
expect_read "documented: root loads a kernel-reading tracing program (LOCKDOWN_BPF_READ_KERNEL is not refused)" \
  "loaded a kernel-reading" /tmp/attack bpf-read-kernel
expect_read "documented: root opens a CPU-wide perf event sampling user stacks (not attributable to a process)" \
  "cpu-wide perf event" /tmp/attack perf-cpu
mkdir -p /run/outer/rp2
"$driver" publish /run/outer/rp2 "$uuid" agent 1 key-outer >/dev/null || failed "publish under /run/outer"
expect_read "documented: root mounts over a directory above the credential root" mounted /tmp/attack mount-tmpfs /run/outer
if out=$(bound_read "/run/outer/rp2/$uuid/crb-agent/vault.json" 2>&1); then
  failed "documented: after the mount above the credential root the path still reads: $out"
else pass "documented: the identity then finds no key at that path (hidden, not disclosed): $out"; fi
umount /run/outer

# ---- dup2() race against the link-detach check (needs two CPUs) --------------------------------
mkdir -p /run/bpf2 && mount --bind /sys/fs/bpf /run/bpf2
race=$(/tmp/attack link-race /run/bpf2/credgate/links/credgate_file_open 20000 2>&1)
if [[ "$race" == *"detached 0 "* ]]; then pass "root: BPF_LINK_DETACH racing dup2 never detaches a credgate link ($race; ${CREDGATE_VM_CPUS:-1} CPUs)"
else failed "link race: $race"; fi
expect_denied "after the race an unbound reader is still refused" as 1001 cat "$file"
umount /run/bpf2 2>/dev/null

# ---- trusted-program marks follow the rules ---------------------------------------------------
cp /bin/true /tmp/prog-a; chmod 0755 /tmp/prog-a
"$driver" apply "/run/plain/pre::process:path=/tmp/prog-a&process:uid=1000" \
  "-::process:path=/tmp/bound-reader&process:uid=1000" "-::process:uid=1000" >/dev/null
expect_denied "root: writing a program a rule names" sh -c 'echo x >> /tmp/prog-a'
"$driver" apply "/run/plain/pre::process:path=/tmp/early&process:uid=1000" \
  "-::process:path=/tmp/bound-reader&process:uid=1000" "-::process:uid=1000" >/dev/null
expect_ok "a program no rule names any more may be written again" sh -c 'echo x >> /tmp/prog-a'
cp /bin/true /tmp/prog-b; chmod 0755 /tmp/prog-b
"$driver" apply "/run/plain/pre::process:path=/tmp/prog-b&process:uid=1000" \
  "-::process:path=/tmp/bound-reader&process:uid=1000" "-::process:uid=1000" >/dev/null
prog_b=$(stat -c %i /tmp/prog-b)
rm -f /tmp/prog-b
if "$driver" objects | grep -q " $prog_b binding="; then failed "a deleted trusted program's inode $prog_b keeps its mark"
else pass "a trusted program's mark goes with its inode (no stale mark for a reused inode number)"; fi

finish
