# SPDX-License-Identifier: Apache-2.0
# Fast-path overhead, measured not asserted: open()+close() of an unprotected file without and with
# credgate's programs attached, in the same boot (TCG: only the ratio means anything).
source "$(dirname "$0")/lib.sh"
require_enforcement
bench=${CREDGATE_BENCH_OPEN:?CREDGATE_BENCH_OPEN is not set}
iterations=${CREDGATE_BENCH_ITERATIONS:-10000}

echo data >/tmp/bench-file
mkdir -p /run/bench && echo secret >/run/bench/cred && chmod 0644 /run/bench/cred
best() {  # best of 3 runs, ns per open+close
  local b="" v
  for _ in 1 2 3; do
    v=$("$@") || return 1
    if [[ -z "$b" ]] || awk -v v="$v" -v b="$b" 'BEGIN { exit !(v < b) }'; then b=$v; fi
  done
  echo "$b"
}

# Two rounds of unload/load so host noise hits both configurations alike.
without="" with=""
for round in 1 2; do
  "$driver" unload >/dev/null 2>&1
  w=$(best "$bench" /tmp/bench-file "$iterations")
  "$driver" apply "/run/bench/cred::process:uid=1000" >/dev/null 2>&1 || { echo "FAIL: apply"; exit 1; }
  p=$(best "$bench" /tmp/bench-file "$iterations")
  echo "BENCH round $round: without $w ns, with $p ns"
  without=$(printf '%s\n' $without $w | sort -g | head -n 1)
  with=$(printf '%s\n' $with $p | sort -g | head -n 1)
done
protected=$(best setpriv --reuid 1000 --regid 1000 --clear-groups -- "$bench" /run/bench/cred "$iterations")
if [[ -n "$without" && -n "$with" && -n "$protected" ]]; then
  echo "BENCH unprotected file, no programs:  $without ns per open+close ($iterations iterations, best of 2 rounds x 3 runs)"
  echo "BENCH unprotected file, programs on:  $with ns ($(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", a / b }')x)"
  echo "BENCH protected file, bound reader:   $protected ns ($(awk -v a="$protected" -v b="$without" 'BEGIN { printf "%.3f", a / b }')x)"
  pass "fast-path benchmark ran (figures above; TCG, so ratios only)"
else
  failed "benchmark: a run failed (without='$without' with='$with' protected='$protected')"
fi
finish
