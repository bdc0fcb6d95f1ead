#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs a command (a VM test) on the Debian packages of this tree: tools/scripts/build-debs builds them
# into the directory of $CREDGATE_DEB, or finds them there unchanged since its last build, so that every
# test that installs them shares one build.
# usage: with_debs.sh COMMAND...   with CREDGATE_DEB and CREDGATE_DKMS_DEB naming the two packages
# Exit 77 when dpkg-buildpackage or a git working tree is missing (1 when CREDGATE_REQUIRE_ALL_TESTS=1).
set -euo pipefail
deb=${CREDGATE_DEB:?CREDGATE_DEB is not set}
dkms_deb=${CREDGATE_DKMS_DEB:?CREDGATE_DKMS_DEB is not set}
root=$(cd "$(dirname "$0")/../.." && pwd)

skip() {
  if [[ ${CREDGATE_REQUIRE_ALL_TESTS:-} == 1 ]]; then echo "FAIL (CREDGATE_REQUIRE_ALL_TESTS=1): $*" >&2; exit 1; fi
  echo "SKIP: $*" >&2
  exit 77
}
command -v dpkg-buildpackage >/dev/null || skip "no dpkg-buildpackage to build the Debian packages (install dpkg-dev)"
git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
  || skip "$root is not a git working tree: tools/scripts/build-debs copies the files git lists"

start=$SECONDS
"$root/tools/scripts/build-debs" "$(dirname "$deb")"
echo "with_debs: the packages were ready after $((SECONDS - start)) s"
for f in "$deb" "$dkms_deb"; do
  [[ -f $f ]] || { echo "with_debs: Failed to find '$f': build-debs did not build it" >&2; exit 1; }
done
exec "$@"
