#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgate.ko on its own in the guest: the control interface and its refusals, one snapshot per open
# while files are replaced, rmmod with files present and with a reader holding one open, insmod twice.
# lib.sh wants the enforcement driver; this script never probes enforcement.
export CREDGATE_ENFORCE_DRIVER=${CREDGATE_ENFORCE_DRIVER:-unused}
source "$(dirname "$0")/lib.sh"

ko=${CREDGATE_KMOD:?CREDGATE_KMOD is not set}
ctl=${CREDGATE_KMOD_CTL:?CREDGATE_KMOD_CTL is not set}
root=/sys/module/credgate/credentials
uuid=6f1c2b1e-8d3a-5b7c-9e0f-1a2b3c4d5e6f
dir=crb-openai
file=$root/$uuid/$dir/vault.json
marker=credgate-secret-marker-7c1d

# expect_errno CASE ERRNO CMD...: CMD must print ERRNO (kmod_ctl prints OK or the errno's name).
expect_errno() {
  local name=$1 want=$2; shift 2
  local out
  out=$("$@" 2>&1)
  if [[ "$out" == "$want" ]]; then pass "$name"; else failed "$name: wanted $want, got: $(echo "$out" | tail -n 2 | tr '\n' ' ')"; fi
}

# Everything the module holds, with contents: a refused operation must leave it as it was.
snapshot_tree() { (cd "$root" && find . -type f -printf '%p %U %m\n' -exec sha256sum {} \; | sort); }

# ---- load ------------------------------------------------------------------------------------
if insmod "$ko" && [[ -d $root && -c /dev/credgate && $(stat -c '%a %U' /dev/credgate) == "600 root" ]]; then
  pass "insmod creates $root and /dev/credgate (0600 root)"
else
  failed "insmod: $(ls -l /dev/credgate 2>&1) $(ls -d $root 2>&1)"; finish; exit 1
fi
if out=$(insmod "$ko" 2>&1); then failed "insmod twice: the second load succeeded"
elif [[ "$out" == *"File exists"* && -c /dev/credgate ]]; then pass "insmod twice fails with EEXIST and the first instance stays"
else failed "insmod twice: $out"; fi

# ---- create, then content --------------------------------------------------------------------
expect_errno "create makes an empty node" OK "$ctl" create $uuid $dir vault.json
if [[ -f $file && ! -s $file && $(cat "$file") == "" && $(stat -c '%a %U' "$file") == "444 root" ]]; then
  pass "a new node is empty and root's, 0444, until content is written"
else
  failed "new node: $(ls -l "$file" 2>&1) content '$(head -c 40 "$file" 2>&1)'"
fi
ino=$(stat -c %i "$file")
expect_errno "create of an existing file is refused with EEXIST" EEXIST "$ctl" create $uuid $dir vault.json
echo "{\"key\":\"$marker\"}" | "$ctl" replace $uuid $dir vault.json >/dev/null
expect_read "replace gives the node its content" "$marker" cat "$file"
if [[ $(stat -c %i "$file") == "$ino" ]]; then pass "replace keeps the inode number (the kernfs node id) the BPF maps know"
else failed "replace changed the inode number: $ino -> $(stat -c %i "$file")"; fi
expect_errno "replace of a missing file is refused with ENOENT" ENOENT sh -c "echo x | $ctl replace $uuid $dir missing.json"
expect_errno "remove of a missing file is refused with ENOENT" ENOENT "$ctl" remove $uuid $dir missing.json

# ---- owner and mode --------------------------------------------------------------------------
expect_errno "create with an owner" OK "$ctl" create $uuid crb-owned key.json 1000
owned=$root/$uuid/crb-owned/key.json
echo "owned-$marker" | "$ctl" replace $uuid crb-owned key.json >/dev/null
if [[ $(stat -c '%a %u' "$owned") == "400 1000" && $(stat -c '%a %U' "$root/$uuid/crb-owned") == "755 root" ]]; then
  pass "an owned node belongs to its uid with mode 0400; its directory stays root's 0755"
else failed "owned node: $(stat -c '%a %u' "$owned") dir $(stat -c '%a %U' "$root/$uuid/crb-owned")"; fi
expect_read "the owner reads its node" "owned-$marker" as 1000 cat "$owned"
expect_denied "another uid cannot read an owned node (DAC, without any BPF program)" as 1001 cat "$owned"

# ---- sizes -----------------------------------------------------------------------------------
"$ctl" create $uuid $dir big.bin >/dev/null
head -c 1048576 /dev/urandom >/tmp/big
if out=$("$ctl" replace $uuid $dir big.bin </tmp/big 2>&1) && cat "$root/$uuid/$dir/big.bin" | cmp -s /tmp/big -; then
  # (through a pipe: the node's st_size is 0, and cmp -s calls files of different sizes different)
  pass "content of exactly 1 MiB (the bound) is accepted and reads back byte for byte"
else failed "1 MiB content: $out"; fi
"$ctl" remove $uuid $dir big.bin >/dev/null

# ---- refusals change nothing -----------------------------------------------------------------
before=$(snapshot_tree)
for spec in truncated:EINVAL short-content:EINVAL long-content:EINVAL oversized:EFBIG bad-magic:EINVAL \
            bad-version:EPROTONOSUPPORT unknown-op:EOPNOTSUPP unknown-flag:EINVAL reserved:EINVAL \
            owner-on-replace:EINVAL dotdot:EINVAL dot:EINVAL slash:EINVAL empty:EINVAL hidden:EINVAL \
            long-name:ENAMETOOLONG bad-uuid:EINVAL padding:EINVAL content-on-create:EINVAL; do
  expect_errno "malformed operation '${spec%%:*}' is refused with ${spec#*:}" "${spec#*:}" \
    "$ctl" malformed $uuid $dir vault.json "${spec%%:*}"
done
expect_errno "a caller that is not root cannot open /dev/credgate (EACCES)" EACCES as 1000 "$ctl" remove $uuid $dir vault.json
expect_errno "root without CAP_SYS_ADMIN is refused with EPERM" EPERM \
  setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin -- "$ctl" remove $uuid $dir vault.json
if [[ "$(snapshot_tree)" == "$before" ]]; then pass "after every refusal the files, owners, modes and contents are unchanged"
else failed "a refused operation changed the tree: $(diff <(echo "$before") <(snapshot_tree) | head -n 4 | tr '\n' ' ')"; fi

# ---- one snapshot per open -------------------------------------------------------------------
"$ctl" create $uuid crb-race version.json >/dev/null
if out=$("$ctl" race $uuid crb-race version.json 1000 100 2>&1); then
  pass "1,000 concurrent reads during 100 replacements each read one whole version ($out)"
else failed "concurrent reads: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
if out=$("$ctl" snapshots $uuid crb-race version.json 2>&1); then
  pass "readers beyond the snapshot bound: the oldest gets ESTALE, never a mix; the rest finish their version ($out)"
else failed "snapshot bound: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi

# ---- what enforcement keys on -----------------------------------------------------------------
# A sysfs mounted in another network namespace is another super block: same node, another st_dev.
# Enforcement keyed on the host's (st_dev, st_ino) alone does not see it (ABI.md, "inode numbers").
mkdir -p /tmp/netns-sysfs
if out=$(unshare -nm sh -c "mount -t sysfs sysfs /tmp/netns-sysfs && stat -c '%d %i' /tmp/netns-sysfs/module/credgate/credentials/$uuid/$dir/vault.json" 2>&1) \
   && [[ ${out#* } == "$ino" && ${out%% *} != "$(stat -c %d "$file")" ]]; then
  pass "sysfs mounted in another network namespace shows the same inode number under another st_dev"
else failed "sysfs in another network namespace: '$out', host $(stat -c '%d %i' "$file")"; fi

# ---- remove ----------------------------------------------------------------------------------
"$ctl" create $uuid $dir other.json >/dev/null
expect_errno "remove of a file" OK "$ctl" remove $uuid $dir other.json
if [[ ! -e $root/$uuid/$dir/other.json && -f $file ]]; then pass "remove takes one file and leaves its neighbours"
else failed "remove: $(ls "$root/$uuid/$dir" 2>&1 | tr '\n' ' ')"; fi
"$ctl" remove $uuid crb-race version.json >/dev/null
if [[ ! -e $root/$uuid/crb-race ]]; then pass "a directory left empty by a remove goes with it"
else failed "empty directory stayed: $(ls -la "$root/$uuid/crb-race" 2>&1 | tr '\n' ' ')"; fi

# ---- rmmod -----------------------------------------------------------------------------------
"$ctl" create $uuid $dir long.json >/dev/null
head -c 20000 /dev/zero | tr '\0' 'x' | "$ctl" replace $uuid $dir long.json >/dev/null
coproc HOLD { "$ctl" hold "$root/$uuid/$dir/long.json"; }
read -r -t 60 ready <&"${HOLD[0]}"
if [[ "$ready" == ready ]] && rmmod credgate && [[ ! -e /sys/module/credgate && ! -e /dev/credgate ]]; then
  echo go >&"${HOLD[1]}"
  read -r -t 60 after <&"${HOLD[0]}"
  wait "$HOLD_PID"
  if [[ "$after" == ENODEV ]]; then pass "rmmod while a reader holds a file open: the module goes, the reader's next read gets ENODEV"
  else failed "rmmod with an open reader: its next read gave '$after'"; fi
else
  failed "rmmod with an open reader: ready='$ready', $(lsmod | grep credgate)"
  kill "$HOLD_PID" 2>/dev/null
fi

insmod "$ko"
for i in 1 2 3; do
  "$ctl" create $uuid crb-$i vault.json 1000 >/dev/null
  echo "$marker-$i" | "$ctl" replace $uuid crb-$i vault.json >/dev/null
done
if [[ $(find $root -type f | wc -l) == 3 ]] && rmmod credgate && [[ ! -e /sys/module/credgate ]] && insmod "$ko" \
   && [[ -z "$(ls -A $root)" ]]; then
  pass "rmmod with files present removes them all; a new load starts empty"
else failed "rmmod with files: $(ls -R /sys/module/credgate 2>&1 | head -n 5 | tr '\n' ' ')"; fi
exec {busy}>/dev/credgate
if out=$(rmmod credgate 2>&1); then failed "rmmod succeeded while /dev/credgate was open"
else pass "rmmod is refused while /dev/credgate is open (module reference)"; fi
exec {busy}>&-
rmmod credgate || failed "final rmmod"

# ---- the kernel log --------------------------------------------------------------------------
# run-in-vm fails the run if the log shows a warning, BUG, oops, refcount, list or kobject message.
if dmesg | grep -q "$marker"; then failed "a credential's content reached the kernel log"
else pass "no credential content in the kernel log"; fi

finish
