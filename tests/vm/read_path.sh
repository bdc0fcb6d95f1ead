# SPDX-License-Identifier: Apache-2.0
# The read path, measured not asserted: how fast the bound reader reads its credential from a sysfs
# node of credgate.ko and from a file on a tmpfs, both protected by the programs for the same binding
# (open, read to the end, close; and pread of one byte from an open fd). tools/bench/read-path runs it
# under QEMU's instruction counting.
source "$(dirname "$0")/lib.sh"
require_enforcement
bench=${CREDGATE_BENCH_OPEN:?CREDGATE_BENCH_OPEN is not set}
ko=${CREDGATE_KMOD:?CREDGATE_KMOD is not set}
ctl=${CREDGATE_KMOD_CTL:?CREDGATE_KMOD_CTL is not set}
iterations=${CREDGATE_BENCH_ITERATIONS:-2000}
rounds=${CREDGATE_BENCH_ROUNDS:-3}
method="TCG wall clock (noisy: ratios only)"
[[ "${CREDGATE_VM_ICOUNT:-0}" == 1 ]] && method="QEMU -icount shift=0 (guest ns = instructions; no cache misses or memory stalls)"

uuid=6f1c2b1e-8d3a-5b7c-9e0f-1a2b3c4d5e6f
content='{"api_key":"sk-bench-0123456789abcdef0123456789abcdef","lease_id":"openai/creds/my-role/bench","lease_duration":900}'
insmod "$ko" || { failed "insmod $ko"; finish; exit 1; }
sysfs=/sys/module/credgate/credentials/$uuid/crb-bench/vault.json
"$ctl" create $uuid crb-bench vault.json >/dev/null
printf '%s\n' "$content" | "$ctl" replace $uuid crb-bench vault.json >/dev/null
mkdir -p /run/rp && printf '%s\n' "$content" >/run/rp/vault.json && chmod 0644 /run/rp/vault.json
out=$("$driver" apply "$sysfs::process:uid=1000" "/run/rp/vault.json::process:uid=1000" 2>&1) || { failed "apply: $out"; finish; exit 1; }
expect_read "control: the bound reader reads the sysfs node" "sk-bench" as 1000 cat "$sysfs"
expect_read "control: the bound reader reads the tmpfs file" "sk-bench" as 1000 cat /run/rp/vault.json
expect_denied "another uid is refused the sysfs node" as 1001 cat "$sysfs"
expect_denied "another uid is refused the tmpfs file" as 1001 cat /run/rp/vault.json

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
for f in sc tc sp tp; do : >"/tmp/rp.$f"; done
ok=1
for round in $(seq "$rounds"); do
  sc=$(as 1000 "$bench" "$sysfs" "$iterations" cat) || ok=0
  tc=$(as 1000 "$bench" /run/rp/vault.json "$iterations" cat) || ok=0
  sp=$(as 1000 "$bench" "$sysfs" "$iterations" read) || ok=0
  tp=$(as 1000 "$bench" /run/rp/vault.json "$iterations" read) || ok=0
  [[ $ok == 1 ]] || break
  echo "$sc" >>/tmp/rp.sc; echo "$tc" >>/tmp/rp.tc; echo "$sp" >>/tmp/rp.sp; echo "$tp" >>/tmp/rp.tp
  echo "BENCH round $round: open+read+close sysfs $sc ns, tmpfs $tc ns; pread 1 byte sysfs $sp ns, tmpfs $tp ns"
done
"$driver" unload >/dev/null 2>&1
rmmod credgate 2>/dev/null
if [[ $ok == 1 ]]; then
  pass "read path measured in $rounds rounds"
  per_s() { awk -v ns="$1" 'BEGIN { printf "%.0f", 1e9 / ns }'; }
  echo "BENCH method: $method; $rounds rounds of $iterations; a ${#content}-byte credential; bound reader uid 1000"
  for pair in "sc:open+read+close, sysfs node" "tc:open+read+close, tmpfs file" "sp:pread 1 byte, sysfs node" "tp:pread 1 byte, tmpfs file"; do
    m=$(median <"/tmp/rp.${pair%%:*}")
    echo "BENCH   ${pair#*:}: $m ns ($(per_s "$m") per second)"
  done
else
  failed "read path: a benchmark run failed"
fi
finish
