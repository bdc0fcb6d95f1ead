# SPDX-License-Identifier: Apache-2.0
# A node at the limit: CREDGATE_SCALE_BINDINGS (10,000) bindings, each with its own protected file and
# one of CREDGATE_SCALE_PROGRAMS (100) programs, applied at once. Checks that the last binding is
# enforced like the first, that pinned maps of another layout are refused rather than adopted, and
# measures (prints, never asserts) what every process on the host pays: open()+close() of an
# unprotected file with no programs, with the programs and every binding, and with a fanotify
# permission listener that allows everything; exec and fork+exit with and without the programs; each
# program's own cost from the kernel's BPF statistics; the kernel memory of the maps.
# tools/bench/open-overhead runs it under QEMU's instruction counting with more iterations.
source "$(dirname "$0")/lib.sh"
require_enforcement
bench=${CREDGATE_BENCH_OPEN:?CREDGATE_BENCH_OPEN is not set}
# Exec measurements run a static program from a tmpfs: nothing read from the 9p root during the loop.
mkdir -p /run/scale && cp "${CREDGATE_BENCH_EXIT0:?CREDGATE_BENCH_EXIT0 is not set}" /run/scale/exit0
n=${CREDGATE_SCALE_BINDINGS:-10000}
programs=${CREDGATE_SCALE_PROGRAMS:-100}
iterations=${CREDGATE_BENCH_ITERATIONS:-2000}
exec_iterations=${CREDGATE_BENCH_EXEC_ITERATIONS:-100}
rounds=${CREDGATE_BENCH_ROUNDS:-3}
method="TCG wall clock (noisy: ratios only)"
[[ "${CREDGATE_VM_ICOUNT:-0}" == 1 ]] && method="QEMU -icount shift=0 (guest ns = instructions; no cache misses or memory stalls)"
py=/usr/bin/python3

# ---- pinned maps of another layout are refused, with what differs ------------------------------------
pd=/sys/fs/bpf/credgate-layout
mkdir -p "$pd/maps"
bpftool map create "$pd/maps/credgate_binds" type array key 4 value 48 entries 512 name credgate_binds
out=$("$driver" apply --pin-dir "$pd" "-::process:uid=1000" 2>&1)
if [[ $? -ne 0 && "$out" == *"pinned map '$pd/maps/credgate_binds' was made by a credgated with another map layout: max entries 512 (this build: $((2 * 10000)))"* && "$out" == *"rm -r $pd"* ]]; then
  pass "a pinned map of another layout (512 binding slots) is refused, naming what differs and what to do"
else
  failed "a pinned map of another layout: wanted a refusal naming max entries 512, got: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi
[[ -z "$(ls "$pd/links" 2>/dev/null)" ]] && pass "the refused start attached nothing" || failed "the refused start left links: $(ls "$pd/links")"
rm -r "$pd"
expect_read "control: with that pin removed the same start succeeds" "applied 1 bindings (loaded)" \
  "$driver" apply --pin-dir "$pd" "-::process:uid=1000"
"$driver" unload --pin-dir "$pd" >/dev/null 2>&1

# ---- the bindings ------------------------------------------------------------------------------------
mkdir -p /run/scale/bin /run/scale/cred
for p in $(seq 0 $((programs - 1))); do cp /bin/cat "/run/scale/bin/agent$p"; done
"$py" - "$n" "$programs" <<'PY'
import sys
n, programs = int(sys.argv[1]), int(sys.argv[2])
with open("/tmp/scale-specs", "w") as specs:
    for i in range(n):
        with open(f"/run/scale/cred/c{i}", "w") as f:
            f.write(f"secret-{i}\n")
        specs.write(f"/run/scale/cred/c{i}::process:path=/run/scale/bin/agent{i % programs}&process:uid=1000\n")
with open("/tmp/scale-specs") as specs, open("/tmp/scale-specs-scan", "w") as scan:
    lines = specs.read().splitlines()
    scan.write("\n".join(lines[:-1] + [lines[-1] + "||process:uid=4242"]) + "\n")
PY
chmod 0644 /run/scale/cred/*
echo data >/tmp/bench-file
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'; }
last=$((n - 1))
last_program=/run/scale/bin/agent$((last % programs))
other_program=/run/scale/bin/agent$(((last + 1) % programs))

# One round: each operation without programs, then with every binding applied.
measure() {  # measure LABEL ARGS... -> prints ns per iteration
  local label=$1; shift
  local v
  v=$("$@" </dev/null) || { echo "FAIL: $label: the benchmark failed" >&2; return 1; }
  echo "$v"
}
for f in open_off open_on fan_off exec_off exec_on execm_on fork_off fork_on r_open r_fan r_exec r_fork; do : >"/tmp/scale.$f"; done
ok=1
applied_in=""
for round in $(seq "$rounds"); do
  "$driver" unload >/dev/null 2>&1
  o0=$(measure open "$bench" /tmp/bench-file "$iterations" open) || ok=0
  f0=$(measure fanotify "$bench" /tmp/bench-file "$iterations" fanotify) || ok=0
  e0=$(measure exec "$bench" /run/scale/exit0 "$exec_iterations" exec) || ok=0
  k0=$(measure fork "$bench" - "$exec_iterations" fork) || ok=0
  t0=${EPOCHREALTIME/./}
  out=$("$driver" apply --spec-file /tmp/scale-specs 2>&1) || { ok=0; echo "FAIL: apply: $out"; }
  t1=${EPOCHREALTIME/./}
  [[ -z $applied_in ]] && applied_in=$(((t1 - t0) / 1000))
  sysctl -qw kernel.bpf_stats_enabled=1
  o1=$(measure open "$bench" /tmp/bench-file "$iterations" open) || ok=0
  e1=$(measure exec "$bench" /run/scale/exit0 "$exec_iterations" exec) || ok=0
  k1=$(measure fork "$bench" - "$exec_iterations" fork) || ok=0
  # The last binding is enforced like the first (once; the rules are the same every round).
  if [[ $round == 1 ]]; then
    expect_read "binding $last: its program, run by its uid, reads its file" "secret-$last" \
      as 1000 "$last_program" "/run/scale/cred/c$last"
    expect_read "binding 0: its program, run by its uid, reads its file" "secret-0" \
      as 1000 /run/scale/bin/agent0 /run/scale/cred/c0
    expect_denied "binding $last: another binding's program is refused" as 1000 "$other_program" "/run/scale/cred/c$last"
    expect_denied "binding $last: its program under another uid is refused" as 1001 "$last_program" "/run/scale/cred/c$last"
    expect_denied "binding $last: root's cat is refused" cat "/run/scale/cred/c$last"
  fi
  # The worst exec: the last binding gains an alternative that names no program (a uid only), so
  # every exec looks at every binding, and /run/scale/exit0 matches none.
  out=$("$driver" apply --spec-file /tmp/scale-specs-scan 2>&1) || { ok=0; echo "FAIL: apply: $out"; }
  m1=$(measure exec-scan "$bench" /run/scale/exit0 "$exec_iterations" exec) || ok=0
  [[ $ok == 1 ]] || break
  echo "$o0" >>/tmp/scale.open_off; echo "$o1" >>/tmp/scale.open_on; echo "$f0" >>/tmp/scale.fan_off
  echo "$e0" >>/tmp/scale.exec_off; echo "$e1" >>/tmp/scale.exec_on; echo "$m1" >>/tmp/scale.execm_on
  echo "$k0" >>/tmp/scale.fork_off; echo "$k1" >>/tmp/scale.fork_on
  ratio "$o1" "$o0" >>/tmp/scale.r_open; ratio "$f0" "$o0" >>/tmp/scale.r_fan
  ratio "$e1" "$e0" >>/tmp/scale.r_exec; ratio "$k1" "$k0" >>/tmp/scale.r_fork
  echo "BENCH round $round: open+close $o0 ns without programs, $o1 with; fanotify $f0; exec $e0 / $e1 (every binding looked at: $m1); fork+exit $k0 / $k1"
done
[[ $ok == 1 ]] && pass "$n bindings applied and measured in $rounds rounds" || failed "a benchmark or an apply failed"

# ---- each program's own cost, and the maps' kernel memory -------------------------------------------
"$driver" stats >/tmp/scale-stats
sysctl -qw kernel.bpf_stats_enabled=0
awk '$1 == "program" && $3 > 0 { printf "BENCH   program %s: %d runs, %.0f ns per run\n", $2, $3, $4 / $3 }' /tmp/scale-stats | sort
awk '$1 == "map" { printf "BENCH   map %s: %d bytes (max entries %d)\n", $2, $3, $4; total += $3 }
     END { printf "BENCH   maps in all: %d bytes\n", total }' /tmp/scale-stats
"$driver" unload >/dev/null 2>&1

if [[ $ok == 1 ]]; then
  echo "BENCH method: $method; $rounds rounds; $iterations opens, $exec_iterations execs/forks per round; guest CPUs ${CREDGATE_VM_CPUS:-1}"
  echo "BENCH   $n bindings, $n protected files, $programs programs: applied in $applied_in ms (guest)"
  echo "BENCH   open+close, unprotected file, no programs: $(median </tmp/scale.open_off) ns"
  echo "BENCH   open+close, unprotected file, $n bindings: $(median </tmp/scale.open_on) ns; median ratio $(median </tmp/scale.r_open)x"
  echo "BENCH   open+close, fanotify FAN_OPEN_PERM allow-all: $(median </tmp/scale.fan_off) ns; median ratio $(median </tmp/scale.r_fan)x"
  echo "BENCH   fork+exec+wait of a static program, no programs: $(median </tmp/scale.exec_off) ns"
  echo "BENCH   fork+exec+wait of a static program, $n bindings: $(median </tmp/scale.exec_on) ns; median ratio $(median </tmp/scale.r_exec)x"
  echo "BENCH   fork+exec+wait of a static program, $n bindings and one that names no program (every binding looked at): $(median </tmp/scale.execm_on) ns"
  echo "BENCH   fork+exit+wait, no programs: $(median </tmp/scale.fork_off) ns"
  echo "BENCH   fork+exit+wait, $n bindings: $(median </tmp/scale.fork_on) ns; median ratio $(median </tmp/scale.r_fork)x"
fi
finish
