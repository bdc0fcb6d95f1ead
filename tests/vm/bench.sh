# SPDX-License-Identifier: Apache-2.0
# Fast-path overhead, measured not asserted: open()+close() and pread() of an unprotected file without
# and with credgate's programs attached, and open()+close() of a protected file by its bound reader.
# Each round measures both configurations back to back; the figure reported is the median of the
# per-round ratios. With CREDGATE_VM_ICOUNT=1 guest time counts instructions (stable across host load).
source "$(dirname "$0")/lib.sh"
require_enforcement
bench=${CREDGATE_BENCH_OPEN:?CREDGATE_BENCH_OPEN is not set}
iterations=${CREDGATE_BENCH_ITERATIONS:-5000}
rounds=${CREDGATE_BENCH_ROUNDS:-5}
method="TCG wall clock (noisy: ratios only)"
[[ "${CREDGATE_VM_ICOUNT:-0}" == 1 ]] && method="QEMU -icount shift=0 (instructions; not cache misses or memory stalls)"

echo data >/tmp/bench-file
mkdir -p /run/bench && echo secret >/run/bench/cred && chmod 0644 /run/bench/cred
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'; }

for f in without with protected rwithout rwith ratios rratios; do : >/tmp/bench.$f; done
ok=1
for round in $(seq "$rounds"); do
  "$driver" unload >/dev/null 2>&1
  w=$("$bench" /tmp/bench-file "$iterations" open) || ok=0
  rw=$("$bench" /tmp/bench-file "$iterations" read) || ok=0
  "$driver" apply "/run/bench/cred::process:uid=1000" >/dev/null 2>&1 || ok=0
  p=$("$bench" /tmp/bench-file "$iterations" open) || ok=0
  rp=$("$bench" /tmp/bench-file "$iterations" read) || ok=0
  b=$(setpriv --reuid 1000 --regid 1000 --clear-groups -- "$bench" /run/bench/cred "$iterations" open) || ok=0
  [[ $ok == 1 ]] || break
  echo "$w" >>/tmp/bench.without; echo "$p" >>/tmp/bench.with; echo "$b" >>/tmp/bench.protected
  echo "$rw" >>/tmp/bench.rwithout; echo "$rp" >>/tmp/bench.rwith
  ratio "$p" "$w" >>/tmp/bench.ratios; ratio "$rp" "$rw" >>/tmp/bench.rratios
  echo "BENCH round $round: open+close without programs $w ns, with $p ns; pread without $rw ns, with $rp ns; protected file (bound reader) open+close $b ns"
done
"$driver" unload >/dev/null 2>&1
if [[ $ok == 1 ]]; then
  echo "BENCH method: $method; $rounds rounds of $iterations iterations, guest CPUs ${CREDGATE_VM_CPUS:-1}"
  echo "BENCH   open+close, unprotected file, no programs: $(median </tmp/bench.without) ns"
  echo "BENCH   open+close, unprotected file, programs on: $(median </tmp/bench.with) ns; median ratio $(median </tmp/bench.ratios)x"
  echo "BENCH   pread 1 byte, unprotected file, no programs: $(median </tmp/bench.rwithout) ns"
  echo "BENCH   pread 1 byte, unprotected file, programs on: $(median </tmp/bench.rwith) ns; median ratio $(median </tmp/bench.rratios)x"
  echo "BENCH   open+close, protected file, bound reader:  $(median </tmp/bench.protected) ns"
  pass "fast-path benchmark ran (figures above)"
else
  failed "benchmark: a run failed"
fi
finish
