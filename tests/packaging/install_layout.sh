#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `meson install --destdir` into a scratch directory installs exactly the expected files, each in its
# place for the configured directories (with the default prefix /usr: the Debian package's paths):
# a missing file and a stray one both fail. Then the parts that must fit together are checked: the
# unit starts the installed credgated with the installed settings, the DKMS tree carries the project's
# version, the settings file is packaging/credgate.yaml, the policy directory is empty.
# The directories come from meson (tests/packaging/meson.build).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

meson=${CREDGATE_MESON:?} build=${CREDGATE_BUILD_ROOT:?} src=${CREDGATE_SOURCE_ROOT:?}
version=${CREDGATE_VERSION:?}
sbindir=${CREDGATE_SBINDIR:?} bindir=${CREDGATE_BINDIR:?} confdir=${CREDGATE_CONFDIR:?}
unitdir=${CREDGATE_UNITDIR:?} mandir=${CREDGATE_MANDIR:?} docdir=${CREDGATE_DOCDIR:?}
completiondir=${CREDGATE_COMPLETIONDIR:?} dkmsdir=${CREDGATE_DKMSDIR:?}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
stage=$scratch/stage

if ! "$meson" install -C "$build" --no-rebuild --destdir "$stage" >"$scratch/install.log" 2>&1; then
  failed "meson install --destdir: $(tail -n 5 "$scratch/install.log" | tr '\n' ' ')"
  finish
fi
pass "meson install --destdir $stage"

# Every installed path: regular files and symlinks, and directories that are empty (one that holds
# something is implied by its contents). Directories end in '/'.
installed() {
  (cd "$stage" && {
    find . -mindepth 1 \( -type f -o -type l \) -printf '/%P\n'
    find . -mindepth 1 -type d -empty -printf '/%P/\n'
  }) | LC_ALL=C sort
}

expected() {
  echo "$sbindir/credgated"
  echo "$bindir/credgatectl"
  echo "$unitdir/credgated.service"
  echo "$confdir/credgate.yaml"
  echo "$confdir/policies.d/"
  echo "$completiondir/credgatectl"
  echo "$mandir/man8/credgated.8"
  echo "$mandir/man8/credgatectl.8"
  echo "$mandir/man5/credgate.yaml.5"
  echo "$mandir/man5/credgate-policy.5"
  for f in Kbuild Makefile credgate.c credgate_parse.h credgate_shim_abi.h dkms.conf; do echo "$dkmsdir/$f"; done
  echo "$docdir/README.md"
  echo "$docdir/SECURITY.md"
  echo "$docdir/policies/README.md"
  for f in "$src"/policies/examples/*; do echo "$docdir/policies/examples/${f##*/}"; done
}

want=$(expected | LC_ALL=C sort)
got=$(installed)
if [[ "$got" == "$want" ]]; then
  pass "the installed paths are exactly the $(echo "$want" | wc -l) expected ones"
else
  missing=$(comm -23 <(echo "$want") <(echo "$got"))
  stray=$(comm -13 <(echo "$want") <(echo "$got"))
  failed "installed paths differ; missing: $(echo ${missing:-none}); not expected: $(echo ${stray:-none})"
fi
echo "$got" | sed 's/^/  /'

# mode PATH WANT: the installed file's permission bits.
mode() {
  local got
  got=$(stat -c %a "$stage$1" 2>&1)
  if [[ "$got" == "$2" ]]; then pass "$1 has mode $2"; else failed "$1: mode $got, wanted $2"; fi
}
mode "$sbindir/credgated" 755
mode "$bindir/credgatectl" 755
mode "$unitdir/credgated.service" 644
mode "$confdir/credgate.yaml" 644
mode "$confdir/policies.d" 755
mode "$dkmsdir/credgate.c" 644
mode "$mandir/man8/credgated.8" 644

if cmp -s "$src/packaging/credgate.yaml" "$stage$confdir/credgate.yaml"; then
  pass "$confdir/credgate.yaml is packaging/credgate.yaml"
else failed "$confdir/credgate.yaml differs from packaging/credgate.yaml"; fi

unit=$stage$unitdir/credgated.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
read -r program _ config <<<"$exec_start"
if [[ $program == "$sbindir/credgated" && -x $stage$program && $config == "$confdir/credgate.yaml" && -f $stage$config ]]; then
  pass "the unit runs the installed $program with the installed $config"
else failed "the unit's ExecStart is '$exec_start'; installed: $sbindir/credgated, $confdir/credgate.yaml"; fi
exec_reload=$(sed -n 's/^ExecReload=//p' "$unit")
if [[ $exec_reload == "$bindir/credgatectl reload --config $confdir/credgate.yaml" && -x $stage$bindir/credgatectl ]]; then
  pass "the unit reloads with the installed credgatectl reload, so systemctl reload reports a refused reload"
else failed "the unit's ExecReload is '$exec_reload'; wanted $bindir/credgatectl reload --config $confdir/credgate.yaml"; fi
if grep -q '@[a-z_]*@' "$unit"; then failed "the installed unit still holds a placeholder: $(grep '@[a-z_]*@' "$unit")"
else pass "the installed unit holds no unreplaced @placeholder@"; fi

conf_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$stage$dkmsdir/dkms.conf" 2>/dev/null)
if [[ $dkmsdir == */credgate-$version && $conf_version == "$version" ]]; then
  pass "the DKMS tree $dkmsdir and its dkms.conf carry the project's version $version"
else failed "DKMS tree $dkmsdir, dkms.conf version '$conf_version', project $version"; fi

# The DKMS tag alone (what tests/vm/dkms.sh stages) still installs the module's tree and nothing else.
if "$meson" install -C "$build" --no-rebuild --tags dkms --destdir "$scratch/dkms" >"$scratch/dkms.log" 2>&1; then
  got_dkms=$(cd "$scratch/dkms" && find . -type f -printf '/%P\n' | LC_ALL=C sort)
  want_dkms=$(expected | grep "^$dkmsdir/" | LC_ALL=C sort)
  if [[ "$got_dkms" == "$want_dkms" ]]; then pass "meson install --tags dkms installs only $dkmsdir"
  else failed "meson install --tags dkms installed: $(echo $got_dkms)"; fi
else failed "meson install --tags dkms: $(tail -n 3 "$scratch/dkms.log" | tr '\n' ' ')"; fi
finish
