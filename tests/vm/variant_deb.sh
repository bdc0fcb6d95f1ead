#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs a command (a VM test) with a newer credgate package to upgrade to: $CREDGATE_VARIANT_DEB, made
# from the package $CREDGATE_DEB with credgated replaced by $CREDGATE_CREDGATED_VARIANT (the test build
# whose BPF programs differ by one constant, as a new version's would) and the version <version>+variant1.
# Made again whenever either input is newer than it.
# usage: variant_deb.sh COMMAND...
set -euo pipefail
deb=${CREDGATE_DEB:?CREDGATE_DEB is not set}
variant=${CREDGATE_CREDGATED_VARIANT:?CREDGATE_CREDGATED_VARIANT is not set}
out=${CREDGATE_VARIANT_DEB:?CREDGATE_VARIANT_DEB is not set}

fail() { echo "variant_deb: Failed to $*" >&2; exit 1; }
if [[ ! -f $out || $deb -nt $out || $variant -nt $out ]]; then
  work=$(mktemp -d "$(dirname "$out")/variant.XXXXXX")
  trap 'rm -rf "$work"' EXIT  # on failure; exec below replaces this shell, so it is removed before
  dpkg-deb -R "$deb" "$work/root" || fail "unpack '$deb'"
  version=$(dpkg-deb -f "$deb" Version)
  install -m 0755 "$variant" "$work/root/usr/sbin/credgated" || fail "put '$variant' in place of credgated"
  sed -i "s/^Version: .*/Version: $version+variant1/" "$work/root/DEBIAN/control"
  # dpkg --verify checks the installed files against these sums.
  sum=$(md5sum "$work/root/usr/sbin/credgated" | cut -d ' ' -f 1)
  sed -i "s|^[0-9a-f]\{32\}  usr/sbin/credgated\$|$sum  usr/sbin/credgated|" "$work/root/DEBIAN/md5sums"
  grep -q "^$sum  usr/sbin/credgated\$" "$work/root/DEBIAN/md5sums" || fail "update usr/sbin/credgated's md5sum"
  dpkg-deb --root-owner-group -Zgzip -b "$work/root" "$work/variant.deb" >/dev/null || fail "build the variant package"
  mv -f "$work/variant.deb" "$out"
  rm -rf "$work"
  trap - EXIT
  echo "variant_deb: built $out (credgate $version+variant1, credgated from $variant)"
fi
exec "$@"
