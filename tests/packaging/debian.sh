#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# debian/ agrees with the project: the package's version (debian/changelog, a native package) is
# meson's project version and the one `credgated --version` prints, and tools/scripts/install-deps
# installs every build dependency debian/control names, so `dpkg-buildpackage` works after it.
# usage: debian.sh CREDGATED
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
credgated=${1:?credgated}
src=${CREDGATE_SOURCE_ROOT:?} version=${CREDGATE_VERSION:?}

changelog=$(sed -n '1s/^credgate (\([^)]*\)) .*/\1/p' "$src/debian/changelog")
if [[ $changelog == "$version" ]]; then pass "debian/changelog's version is meson's project version $version"
else failed "debian/changelog says '$changelog', meson.build says '$version': add a changelog entry (dch -v $version)"; fi
format=$(cat "$src/debian/source/format")
if [[ $format == "3.0 (native)" && $changelog != *-* ]]; then pass "a native package (3.0 (native), no Debian revision)"
else failed "debian/source/format '$format' with version '$changelog'"; fi

got=$("$credgated" --version 2>&1)
if [[ $got == "$version" ]]; then pass "credgated --version prints $version"
else failed "credgated --version prints '$got', the project's version is $version"; fi

# Build-Depends: package names, without versions or architecture qualifiers.
build_deps=$(sed -n '/^Build-Depends:/,/^[^ ]/p' "$src/debian/control" | sed '1s/^Build-Depends://; /^[^ ]/d' |
  tr ',' '\n' | sed 's/[[(<].*//; s/^ *//; s/ *$//' | grep -v '^$' | LC_ALL=C sort -u)
# install-deps' package list: the words of its packages=( ... ) array, comments left out.
listed=$(sed -n '/^packages=(/,/^)/p' "$src/tools/scripts/install-deps" | sed '1d;$d; s/#.*//' | tr ' ' '\n' |
  grep -v '^$' | LC_ALL=C sort -u)
[[ -n $build_deps && -n $listed ]] || { failed "could not read Build-Depends or install-deps' list"; finish; }
missing=""
for dep in $build_deps; do
  # Virtual packages debhelper's tools ask for, and what provides them.
  case $dep in
    debhelper-compat) real=debhelper ;;
    dh-sequence-dkms) real=dh-dkms ;;
    *) real=$dep ;;
  esac
  grep -qx -- "$real" <<<"$listed" || missing+=" $real"
done
if [[ -z $missing ]]; then pass "install-deps installs every build dependency: $(echo $build_deps)"
else failed "tools/scripts/install-deps does not install:$missing"; fi
finish
