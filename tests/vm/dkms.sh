#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgate.ko installed the way an operator installs it, through DKMS, without changing the host's
# DKMS state or its /lib/modules:
#   host:  `meson install --tags dkms` stages the DKMS source tree (credgate-<version>/), then
#          dkms add, build, install and status run against scratch trees (--dkmstree, --sourcetree,
#          --installtree, --no-depmod) for the kernel the VM boots; depmod runs on the scratch tree;
#   guest: on that kernel, insmod of the module dkms installed, one CREATE + REPLACE through
#          /dev/credgate read back from sysfs, rmmod; modprobe finds it through the scratch depmod;
#   host:  dkms remove, and /var/lib/dkms, /usr/src and /lib/modules/<kernel> are as they were.
# usage: dkms.sh            on the host, with the variables tests/vm/meson.build sets
#        dkms.sh --guest    inside the VM (run-in-vm runs it)
# Exit 77 when dkms, the kernel headers, root or the VM harness are missing (1 when
# CREDGATE_REQUIRE_ALL_TESTS=1).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
uuid=6f1c2b1e-8d3a-5b7c-9e0f-1a2b3c4d5e6f
dir=crb-openai
marker=credgate-dkms-marker-5e2a

# ================================ guest ==========================================================
if [[ ${1:-} == --guest ]]; then
  # lib.sh wants the enforcement driver; this script never probes enforcement.
  export CREDGATE_ENFORCE_DRIVER=${CREDGATE_ENFORCE_DRIVER:-unused}
  source "$here/lib.sh"
  ko=${CREDGATE_DKMS_KO:?} modroot=${CREDGATE_DKMS_ROOT:?} ctl=${CREDGATE_KMOD_CTL:?}
  version=${CREDGATE_DKMS_VERSION:?}
  root=/sys/module/credgate/credentials
  file=$root/$uuid/$dir/vault.json
  dmesg -C

  if insmod "$ko" && [[ -d $root && -c /dev/credgate ]]; then
    pass "insmod of the module dkms installed ($ko) creates $root and /dev/credgate on $(uname -r)"
  else
    failed "insmod $ko: $(ls -l /dev/credgate 2>&1) $(ls -d $root 2>&1) $(dmesg | tail -n 3 | tr '\n' ' ')"
    finish; exit 1
  fi
  got=$(cat /sys/module/credgate/version 2>&1)
  if [[ "$got" == "$version" ]]; then pass "/sys/module/credgate/version is the project's version ($version)"
  else failed "module version: wanted $version, got '$got'"; fi
  out=$("$ctl" create $uuid $dir vault.json 2>&1)
  if [[ "$out" == OK ]]; then pass "CREATE through /dev/credgate"; else failed "CREATE: $out"; fi
  out=$(echo "{\"key\":\"$marker\"}" | "$ctl" replace $uuid $dir vault.json 2>&1)
  if [[ "$out" == OK ]]; then pass "REPLACE through /dev/credgate"; else failed "REPLACE: $out"; fi
  expect_read "the credential reads back from $file" "{\"key\":\"$marker\"}" cat "$file"
  if rmmod credgate && [[ ! -e /sys/module/credgate && ! -e /dev/credgate ]]; then
    pass "rmmod removes the module, its files and /dev/credgate"
  else failed "rmmod: $(lsmod | grep credgate) $(ls -d /sys/module/credgate /dev/credgate 2>&1 | tr '\n' ' ')"; fi

  # What `modprobe credgate` does after a real `dkms install` (whose depmod the host ran on the
  # scratch tree): modules.dep leads to updates/dkms/credgate.ko.
  if modprobe -d "$modroot" credgate && [[ -c /dev/credgate ]] \
     && [[ $(cat /sys/module/credgate/version 2>/dev/null) == "$version" ]] && rmmod credgate; then
    pass "modprobe finds credgate through depmod's modules.dep (updates/dkms), and it unloads"
  else failed "modprobe -d $modroot credgate: $(lsmod | grep credgate) $(dmesg | tail -n 2 | tr '\n' ' ')"; fi

  log=$(dmesg)
  if bad=$(echo "$log" | grep -E 'WARNING|BUG|Oops|refcount_t|list_(add|del) corruption|general protection'); then
    failed "the guest kernel log shows: $(echo "$bad" | head -n 3 | tr '\n' ' ')"
  else pass "the guest kernel log shows no warning, BUG or Oops"; fi
  if echo "$log" | grep -q "$marker"; then failed "a credential's content reached the kernel log"
  else pass "no credential content in the kernel log"; fi
  finish
  exit
fi

# ================================ host ===========================================================
failures=0
cases=0
pass() { cases=$((cases + 1)); echo "PASS: $*"; }
failed() { cases=$((cases + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
skip() {
  if [[ "${CREDGATE_REQUIRE_ALL_TESTS:-}" == 1 ]]; then echo "FAIL (CREDGATE_REQUIRE_ALL_TESTS=1): $*" >&2; exit 1; fi
  echo "SKIP: $*" >&2
  exit 77
}

version=${CREDGATE_DKMS_VERSION:?CREDGATE_DKMS_VERSION is not set (meson sets it)}
source_dir=${CREDGATE_DKMS_SOURCE_DIR:?CREDGATE_DKMS_SOURCE_DIR is not set}
scratch=${CREDGATE_DKMS_SCRATCH:?CREDGATE_DKMS_SCRATCH is not set}
build_root=${CREDGATE_BUILD_ROOT:?CREDGATE_BUILD_ROOT is not set}
src=${CREDGATE_SOURCE_ROOT:?CREDGATE_SOURCE_ROOT is not set}/kmod-shim
run_in_vm=${CREDGATE_RUN_IN_VM:?CREDGATE_RUN_IN_VM is not set}
meson=${CREDGATE_MESON:-meson}
export CREDGATE_KMOD_CTL=${CREDGATE_KMOD_CTL:?CREDGATE_KMOD_CTL is not set}

# The kernel the VM boots: meson's choice for credgate.ko (the newest /boot/vmlinuz-*).
kver=${CREDGATE_KMOD_KERNEL:-}
[[ -n $kver ]] || kver=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
[[ -n $kver && -r /boot/vmlinuz-$kver ]] || skip "no kernel image /boot/vmlinuz-* (install linux-image-amd64)"
command -v dkms >/dev/null || skip "dkms is not installed (tools/scripts/install-deps installs it)"
[[ -e /lib/modules/$kver/build/include ]] || skip "no kernel headers for $kver (install linux-headers-amd64)"
[[ $(id -u) == 0 ]] || skip "dkms install needs root"
# The guest half needs the VM harness: building its initramfs finds qemu, busybox and the modules.
rm -rf "$scratch"
mkdir -p "$scratch"
"$run_in_vm" --initramfs-out "$scratch/probe.cpio" || exit $?
rm -f "$scratch/probe.cpio"

# What dkms writes by default, and what must be left as it was: its tree (and signing key), the
# source tree, and the kernel's module directory (installed modules, depmod's files).
host_state() {
  {
    find /var/lib/dkms /usr/src -maxdepth 1 -printf '%p\n'
    find /var/lib/dkms -printf '%p %s %T@\n'
    find "/lib/modules/$kver/" -maxdepth 1 -type f -printf '%p %s %T@\n'
    find "/lib/modules/$kver/" -path "/lib/modules/$kver/kernel" -prune -o -name '*.ko*' -printf '%p %s %T@\n'
  } 2>/dev/null | LC_ALL=C sort
}
before=$(host_state)

stage=$scratch/stage
srcdir=$stage$source_dir               # <destdir><prefix>/src/credgate-<version>
sourcetree=$(dirname "$srcdir")
dkmstree=$scratch/dkms
modroot=$scratch/root                  # a file system root for depmod -b and modprobe -d
installtree=$modroot/lib/modules
trees=(--dkmstree "$dkmstree" --sourcetree "$sourcetree" --installtree "$installtree" --no-depmod)
arch=$(uname -m)
# dkms 3.0 signs what it builds when the kernel's sign-file exists, with the key and certificate that
# framework.conf names, by default /var/lib/dkms/mok.{key,pub}, which it generates when missing. It
# has no option for them but keeps these variables when the environment sets them (and
# framework.conf does not): the key is generated here instead. The guest kernel does not require
# signatures; what matters is that signing leaves the host alone (checked at the end).
export mok_signing_key=$scratch/mok.key mok_certificate=$scratch/mok.pub
added=0

# run NAME CMD...: CMD's output goes to $scratch/NAME.log, shown when it fails.
run() {
  local name=$1; shift
  if "$@" >"$scratch/$name.log" 2>&1; then return 0; fi
  echo "--- $* failed:"; tail -n 20 "$scratch/$name.log"
  return 1
}
status_line() { dkms status "${trees[@]}" -m credgate -v "$version" 2>&1; }

end() {
  if [[ $added == 1 ]]; then dkms remove "${trees[@]}" "credgate/$version" --all >/dev/null 2>&1; fi
  echo "== $((cases - failures))/$cases cases passed"
  if [[ $failures -eq 0 ]]; then rm -rf "$scratch"; exit 0; fi
  echo "dkms.sh: kept $scratch for inspection"
  exit 1
}

# ---- the DKMS source tree: meson install, the version from meson.build ---------------------------
if run meson-install "$meson" install -C "$build_root" --no-rebuild --tags dkms --destdir "$stage"; then
  pass "meson install --tags dkms stages $source_dir"
else failed "meson install --tags dkms"; end; fi
want=$(cd "$src" && printf '%s\n' dkms.conf Kbuild Makefile *.c *.h | LC_ALL=C sort)
got=$(cd "$srcdir" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort)
if [[ "$got" == "$want" ]]; then pass "the staged tree holds dkms.conf, Kbuild, Makefile and every .c and .h of kmod-shim/"
else failed "staged tree: wanted $(echo $want), got $(echo $got)"; fi
differ=""
for f in Kbuild Makefile "$src"/*.c "$src"/*.h; do
  cmp -s "$src/${f##*/}" "$srcdir/${f##*/}" || differ+=" ${f##*/}"
done
if [[ -z $differ ]]; then pass "the staged sources are kmod-shim's, unchanged"; else failed "staged sources differ:$differ"; fi
conf_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$srcdir/dkms.conf")
if [[ "$conf_version" == "$version" && $(grep -c 'MODULE_VERSION#' "$srcdir/dkms.conf") == 0 ]] \
   && grep -qx 'PACKAGE_VERSION="#MODULE_VERSION#"' "$src/dkms.conf"; then
  pass "dkms.conf's PACKAGE_VERSION is meson.build's $version, filled in for kmod-shim/dkms.conf's #MODULE_VERSION#"
else failed "dkms.conf version: staged '$conf_version', project '$version', template: $(grep PACKAGE_VERSION "$src/dkms.conf")"; fi

# ---- dkms add, build, install, status ------------------------------------------------------------
mkdir -p "$dkmstree" "$installtree/$kver"   # dkms installs only into a kernel directory that exists
if run dkms-add dkms add "${trees[@]}" "$srcdir"; then
  added=1
  out=$(status_line)
  if [[ "$out" == "credgate/$version: added" ]]; then pass "dkms add $srcdir: status '$out'"
  else failed "dkms status after add: '$out'"; fi
else failed "dkms add"; end; fi

if run dkms-build dkms build "${trees[@]}" "credgate/$version" -k "$kver"; then
  built=$dkmstree/credgate/$version/$kver/$arch/module/credgate.ko
  out=$(status_line)
  if [[ -f $built && "$out" == "credgate/$version, $kver, $arch: built" ]]; then pass "dkms build credgate/$version -k $kver: status '$out'"
  else failed "dkms build: $(ls -l "$built" 2>&1), status '$out'"; fi
  # The same rule as build-module: warning free ("Skipping BTF generation" is the headers package).
  if warn=$(grep -E 'warning:|error:' "$dkmstree/credgate/$version/$kver/$arch/log/make.log" | grep -v 'Skipping BTF generation'); then
    failed "the DKMS build is not warning free: $(echo "$warn" | head -n 3 | tr '\n' ' ')"
  else pass "the DKMS build is warning free (make.log)"; fi
else failed "dkms build"; end; fi

if run dkms-install dkms install "${trees[@]}" "credgate/$version" -k "$kver"; then
  ko=$installtree/$kver/updates/dkms/credgate.ko
  out=$(status_line)
  if [[ -f $ko && "$out" == "credgate/$version, $kver, $arch: installed" ]]; then
    pass "dkms install credgate/$version -k $kver puts credgate.ko in updates/dkms; status '$out'"
  else failed "dkms install: $(ls -l "$ko" 2>&1), status '$out'"; fi
else failed "dkms install"; end; fi
if [[ $(modinfo -F version "$ko") == "$version" && $(modinfo -F vermagic "$ko") == "$kver "* ]]; then
  signer=$(modinfo -F signer "$ko")
  pass "the installed module is version $version for $kver (signed by: ${signer:-nobody})"
else failed "modinfo $ko: version '$(modinfo -F version "$ko")', vermagic '$(modinfo -F vermagic "$ko")'"; fi

# dkms install's depmod, on the scratch root instead of /lib/modules/$kver (--no-depmod above), with
# the kernel's lists so that depmod sees a complete module directory.
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [[ -e /lib/modules/$kver/$f ]] && cp "/lib/modules/$kver/$f" "$installtree/$kver/"
done
if run depmod depmod -b "$modroot" -F "/boot/System.map-$kver" "$kver" \
   && grep -qx 'updates/dkms/credgate.ko:' "$installtree/$kver/modules.dep"; then
  pass "depmod on the scratch root lists updates/dkms/credgate.ko"
else failed "depmod -b $modroot: $(head -n 3 "$installtree/$kver/modules.dep" 2>&1)"; fi

# ---- the guest: load what dkms installed ---------------------------------------------------------
echo "--- guest ($kver):"
CREDGATE_VM_KERNEL=$kver CREDGATE_DKMS_KO=$ko CREDGATE_DKMS_ROOT=$modroot CREDGATE_DKMS_VERSION=$version \
  CREDGATE_VM_ENV="CREDGATE_DKMS_KO CREDGATE_DKMS_ROOT CREDGATE_DKMS_VERSION CREDGATE_KMOD_CTL" \
  "$run_in_vm" "bash $here/dkms.sh --guest"
rc=$?
echo "---"
if [[ $rc == 0 ]]; then pass "in the guest, every case passed with the DKMS-built module"
else failed "in the guest: exit $rc"; fi

# ---- dkms remove ---------------------------------------------------------------------------------
if run dkms-remove dkms remove "${trees[@]}" "credgate/$version" --all; then
  added=0
  out=$(status_line)
  if [[ -z "$out" && ! -e $ko && ! -e $dkmstree/credgate && -f $srcdir/dkms.conf ]]; then
    pass "dkms remove credgate/$version --all: no status, the module and the DKMS tree entry are gone, the source stays"
  else failed "after dkms remove: status '$out', $(ls -d "$ko" "$dkmstree/credgate" 2>&1 | tr '\n' ' ')"; fi
else failed "dkms remove"; fi

after=$(host_state)
if [[ "$after" == "$before" ]]; then pass "/var/lib/dkms, /usr/src and /lib/modules/$kver are as they were"
else failed "the host changed: $(diff <(echo "$before") <(echo "$after") | head -n 6 | tr '\n' ' ')"; fi
end
