# SPDX-License-Identifier: Apache-2.0
# Fail closed: enforcement outlives its loader (kill -9), a restarted loader adopts the pins, readers
# racing restarts and rule swaps never see an unprotected or half-applied state.
source "$(dirname "$0")/lib.sh"
require_enforcement

fc=/run/fc
mkdir -p "$fc" && chmod 0777 "$fc"
echo secret-fc >"$fc/cred" && chmod 0644 "$fc/cred"
spec_a="$fc/cred::process:uid=1000"
spec_b="$fc/cred::process:uid=1003||process:uid=1000"

wait_for() { for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

expect_read "before loading: an unbound reader reads the unprotected file" secret-fc as 1001 cat "$fc/cred"
"$driver" apply --dir "$fc" "$spec_a" >/dev/null || { echo "FAIL: apply"; exit 1; }
"$driver" hold >/tmp/hold.out & holder=$!
if wait_for /tmp/hold.out ready; then pass "a resident loader adopts the pins ($(cat /tmp/hold.out))"; else failed "the resident loader did not start"; fi
kill -9 $holder; wait $holder 2>/dev/null
expect_denied "after kill -9 of the loader an unbound reader is still refused" as 1001 cat "$fc/cred"
expect_read "after kill -9 of the loader the bound reader still reads" secret-fc as 1000 cat "$fc/cred"

# Readers race restarts (each adopts the pins) and swaps between two rule sets that both bind uid 1000.
rm -f /tmp/stop
setpriv --reuid 1001 --regid 1001 --clear-groups -- sh -c \
  'n=0; while [ ! -e /tmp/stop ]; do cat "$0" 2>/dev/null && echo LEAK; n=$((n+1)); done; echo "attempts $n"' \
  "$fc/cred" >/tmp/unbound.log &
unbound=$!
setpriv --reuid 1000 --regid 1000 --clear-groups -- sh -c \
  'n=0; while [ ! -e /tmp/stop ]; do cat "$0" >/dev/null 2>&1 || echo MISS; n=$((n+1)); done; echo "attempts $n"' \
  "$fc/cred" >/tmp/bound.log &
bound=$!
restarts=0
for spec in "$spec_b" "$spec_a" "$spec_b"; do
  "$driver" apply --dir "$fc" "$spec" >>/tmp/restarts.log 2>&1 && restarts=$((restarts + 1))
  "$driver" hold >/tmp/hold2.out 2>&1 & holder=$!
  wait_for /tmp/hold2.out ready
  kill -9 $holder; wait $holder 2>/dev/null
done
touch /tmp/stop
wait $unbound $bound
unbound_attempts=$(awk '/attempts/ {print $2}' /tmp/unbound.log)
bound_attempts=$(awk '/attempts/ {print $2}' /tmp/bound.log)
if [[ $restarts -eq 3 ]] && [[ $(grep -c adopted /tmp/restarts.log) -eq 3 ]]; then pass "three restarts adopted the pinned state"
else failed "restarts: $restarts succeeded: $(tr '\n' ' ' </tmp/restarts.log)"; fi
if [[ ${unbound_attempts:-0} -gt 0 ]] && ! grep -q LEAK /tmp/unbound.log; then
  pass "an unbound reader racing 3 restarts, 3 kill -9 and 3 rule swaps never read ($unbound_attempts attempts)"
else
  failed "unbound racer: $(grep -c LEAK /tmp/unbound.log) leaks in ${unbound_attempts:-0} attempts"
fi
if [[ ${bound_attempts:-0} -gt 0 ]] && ! grep -q MISS /tmp/bound.log; then
  pass "the bound reader was never refused during 3 atomic rule swaps ($bound_attempts attempts)"
else
  failed "bound racer: $(grep -c MISS /tmp/bound.log) refusals in ${bound_attempts:-0} attempts"
fi

expect_denied "a non-credgated process cannot unpin enforcement" as 0 rm -rf /sys/fs/bpf/credgate/links
expect_ok "credgated's own executable removes the pins" "$driver" unload
expect_read "after unload the file is unprotected again (the refusals above were credgate's)" secret-fc as 1001 cat "$fc/cred"

finish
