#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-in-vm builds the same initramfs twice in fresh directories (no state carried between boots).
set -u
harness=${1:?usage: harness.sh RUN_IN_VM}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$harness" --initramfs-out "$out/a.cpio"; rc=$?
[[ $rc -eq 0 ]] || exit $rc   # 77 when qemu/kernel/busybox are missing
"$harness" --initramfs-out "$out/b.cpio" || exit 1
if cmp -s "$out/a.cpio" "$out/b.cpio" && [[ -s "$out/a.cpio" ]]; then
  echo "PASS: two initramfs builds are byte-identical ($(stat -c %s "$out/a.cpio") bytes)"
else
  echo "FAIL: two initramfs builds differ"; exit 1
fi
