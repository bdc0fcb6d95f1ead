# SPDX-License-Identifier: Apache-2.0
# Fast-path overhead, measured not asserted: open()+close() of an unprotected file without and with
# credgate's programs attached. TCG on a shared host drifts, so each round measures both configurations
# back to back and the figure reported is the median of the per-round ratios.
source "$(dirname "$0")/lib.sh"
require_enforcement
bench=${CREDGATE_BENCH_OPEN:?CREDGATE_BENCH_OPEN is not set}
iterations=${CREDGATE_BENCH_ITERATIONS:-5000}
rounds=${CREDGATE_BENCH_ROUNDS:-5}

echo data >/tmp/bench-file
mkdir -p /run/bench && echo secret >/run/bench/cred && chmod 0644 /run/bench/cred
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

: >/tmp/ratios; : >/tmp/without; : >/tmp/with; : >/tmp/protected
ok=1
for round in $(seq "$rounds"); do
  "$driver" unload >/dev/null 2>&1
  w=$("$bench" /tmp/bench-file "$iterations") || ok=0
  "$driver" apply "/run/bench/cred::process:uid=1000" >/dev/null 2>&1 || ok=0
  p=$("$bench" /tmp/bench-file "$iterations") || ok=0
  b=$(setpriv --reuid 1000 --regid 1000 --clear-groups -- "$bench" /run/bench/cred "$iterations") || ok=0
  [[ $ok == 1 ]] || break
  echo "$w" >>/tmp/without; echo "$p" >>/tmp/with; echo "$b" >>/tmp/protected
  awk -v a="$p" -v b="$w" 'BEGIN { printf "%.4f\n", a / b }' >>/tmp/ratios
  echo "BENCH round $round: without programs $w ns, with $p ns, protected file (bound reader) $b ns"
done
"$driver" unload >/dev/null 2>&1
if [[ $ok == 1 ]]; then
  echo "BENCH median over $rounds rounds of $iterations open+close pairs:"
  echo "BENCH   unprotected file, no programs: $(median </tmp/without) ns"
  echo "BENCH   unprotected file, programs on: $(median </tmp/with) ns; median ratio $(median </tmp/ratios)x"
  echo "BENCH   protected file, bound reader:  $(median </tmp/protected) ns"
  pass "fast-path benchmark ran (figures above; TCG, so ratios only)"
else
  failed "benchmark: a run failed"
fi
finish
