#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgatectl audit, explain and identities with the kernel deciding, in one boot: an intruder's
# refusal shows in `audit --verdict deny` with its binding and pid, `audit --follow` prints a refusal
# made after it started, and explain and identities see the script the kernel recorded at each exec.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
require_enforcement

w=$CREDGATE_VM_SCRATCH/operator
root=$w/credentials
mkdir -p "$w/policies.d" "$w/agent" "$w/intruder"
chmod 0755 "$w" "$w/agent" "$w/intruder"
background=()
cleanup() { for p in "${background[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# ---- the agent, which stays up after reading; an intruder script ---------------------------------
agent=$w/agent/ai-agent
cat >"$agent" <<'EOF'
#!/usr/bin/python3
# The bound agent: reads FILE, says how much, then stays up for SECONDS (for explain and identities).
import sys, time
try:
    print("agent: read", len(open(sys.argv[1]).read()), "bytes", flush=True)
except OSError as e:
    print(f"agent: {sys.argv[1]}: {e.strerror}", flush=True)
    sys.exit(1)
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0)
EOF
write_reader "$w/intruder/reader.py"
chmod 0755 "$agent" "$w/intruder/reader.py"

# decision PID VERDICT < JSON lines: one of them is a file_open of agent-key's file by PID with VERDICT
# (a grep, not a JSON parser: under emulation each python start costs seconds; credgated writes its
# objects compactly, "seq" and "time" first, then the kernel's event in audit_json's order).
decision() {
  grep -Eq "^\{\"seq\":[1-9][0-9]*,\"time\":\"[^\"]+\",.*\"hook\":\"file_open\",\"verdict\":\"$2\",\"pid\":[0-9]+,\"tgid\":$1,.*\"binding\":\"agent-key\",\"spiffe_id\":\"spiffe://example.org/ai-agent\""
}
audited() { ctl audit --verdict "$2" --binding agent-key | decision "$1" "$2"; }
# started PID OUT: PID printed its first line to OUT (it has read, or failed to).
started() { [[ -s $2 ]]; }
# The uid 1000 processes below are started by setpriv itself, not through lib.sh's `as` (a function,
# so a background `as` is a subshell): $! is then their pid, as setpriv execs them.

# ---- devvault, credgated enforcing, one binding -------------------------------------------------
start_devvault operator-root proj_operator
write_credgate_yaml operator-node
"$credgated" --config "$w/credgate.yaml" 2>"$w/credgated.log" &
daemon=$!
background+=("$daemon")
poll 90 ctl status || die "credgated did not answer on its control socket"
require_enforcing
seed_openai op proj_operator
seed_jwt "$issuer"
seed_jwt_role openai-apikeys ai-agent 0 1h
cat >"$w/policies.d/agent.yaml" <<EOF
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: vault-openai}
spec:
  vault: {address: "$vault", jwtAuthMethodPath: jwt, role: openai-apikeys, path: openai/creds/my-role, audience: [vault]}
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: ai-agent}
spec:
  workloadID: ai-agent
  selectors:
    - process:path: $agent
      process:uid: 1000
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: agent-key}
spec:
  workloadID: ai-agent
  credentialSource: vault-openai
  propagation: {file: {}}
EOF
ctl reload >/dev/null || die "credgatectl reload failed"
wait_bound agent-key
file=$(ctl get binding agent-key -o json | json_get status.file.files.0.path)

# ---- an intruder is refused, and audit --verdict deny shows it with the binding and its pid ------
setpriv --reuid 1000 --regid 1000 --clear-groups -- "$w/intruder/reader.py" "$file" >"$w/intruder1.out" 2>&1 &
intruder1=$!
wait "$intruder1"
if grep -q "Permission denied" "$w/intruder1.out"; then pass "control: the intruder script (uid 1000) is refused"
else failed "the intruder script was not refused: $(cat "$w/intruder1.out")"; fi
if poll 15 audited "$intruder1" deny; then
  pass "credgatectl audit --verdict deny shows the refusal: binding agent-key, its SPIFFE ID, pid $intruder1"
else
  failed "credgatectl audit --verdict deny does not show pid $intruder1: $(ctl audit --verdict deny 2>&1 | tail -n 3)"
fi
out=$(ctl audit --verdict allow --binding agent-key); rc=$?
if ! grep -q "\"tgid\":$intruder1," <<<"$out"; then pass "credgatectl audit --verdict allow leaves the refusal out (exit $rc)"
else failed "credgatectl audit --verdict allow shows the refused pid $intruder1: $out"; fi
if ctl audit | decision "$intruder1" deny; then pass "credgatectl audit exits 0 and prints every recent decision"
else failed "credgatectl audit without filters does not print pid $intruder1's refusal"; fi

# ---- --follow prints the recent refusals, then one made after it started -------------------------
# credgatectl itself in the background (not the ctl function's subshell), so $! is what gets the signal.
"$credgatectl" audit --follow --verdict deny --binding agent-key --socket "$w/control.sock" >"$w/follow.out" \
  2>"$w/follow.log" &
follower=$!
background+=("$follower")
followed() { decision "$1" deny <"$w/follow.out"; }
if poll 20 followed "$intruder1"; then pass "credgatectl audit --follow first prints the earlier refusal"
else failed "credgatectl audit --follow did not print the earlier refusal: $(cat "$w/follow.log")"; fi
setpriv --reuid 1000 --regid 1000 --clear-groups -- "$w/intruder/reader.py" "$file" >"$w/intruder2.out" 2>&1 &
intruder2=$!
wait "$intruder2"
if poll 20 followed "$intruder2"; then pass "credgatectl audit --follow printed the refusal of pid $intruder2, made after it started"
else failed "credgatectl audit --follow did not print pid $intruder2's refusal: $(tail -n 2 "$w/follow.out") $(cat "$w/follow.log")"; fi
if kill -0 "$follower" 2>/dev/null; then pass "credgatectl audit --follow keeps following until interrupted"
else failed "credgatectl audit --follow exited on its own: $(cat "$w/follow.log")"; fi
# SIGTERM: a background job of a script ignores SIGINT (what Ctrl-C sends to a foreground one).
kill -TERM "$follower"; wait "$follower" 2>/dev/null

# ---- the agent reads: an allow decision, and explain/identities from the kernel's exec record -----
setpriv --reuid 1000 --regid 1000 --clear-groups -- "$agent" "$file" 600 >"$w/agent.out" 2>&1 &
agent_pid=$!
background+=("$agent_pid")
poll 30 started "$agent_pid" "$w/agent.out" || die "the agent did not start"
if grep -q "agent: read" "$w/agent.out"; then pass "control: the agent (its script, uid 1000) reads its file"
else failed "the agent could not read its file: $(cat "$w/agent.out")"; fi
if poll 15 audited "$agent_pid" allow; then pass "credgatectl audit --verdict allow shows the agent's read (pid $agent_pid)"
else failed "credgatectl audit --verdict allow does not show pid $agent_pid"; fi

# Two processes that are not the agent: its interpreter running the script as the agent's uid (the
# kernel recorded python3, not the script), and the agent's script run by root.
setpriv --reuid 1000 --regid 1000 --clear-groups -- /usr/bin/python3 "$agent" /dev/null 600 >"$w/interpreter.out" 2>&1 &
interpreter=$!
"$agent" /dev/null 600 >"$w/root-agent.out" 2>&1 &
root_agent=$!
background+=("$interpreter" "$root_agent")
poll 30 started "$interpreter" "$w/interpreter.out" && poll 30 started "$root_agent" "$w/root-agent.out" ||
  die "the stand-ins did not start"

# explained WANT_EXIT EXIT CHECK < explain JSON: the exit code and CHECK (a Python expression over d,
# the document, b, agent-key's entry, k, its first alternative's keys by name, and sys.argv[2], the
# agent's path) hold.
explained() {
  local want=$1 rc=$2 check=$3
  [[ $rc == "$want" ]] && /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
[b] = [b for b in d["bindings"] if b["binding"] == "agent-key"]
k = {k["key"]: k for k in b["alternatives"][0]["keys"]}
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$check" "$agent"
}

doc=$(ctl explain --pid "$agent_pid" --binding agent-key -o json); rc=$?
if explained 0 "$rc" 'd["allowed"] and b["allowed"] and d["process"]["exeSource"] == "kernel" and
    k["process:path"]["matched"] and k["process:path"]["has"].startswith(sys.argv[2] + " (") and
    d["process"]["exe"].startswith("/usr/bin/python3") and k["process:uid"]["has"] == "uid 1000"' <<<"$doc"; then
  pass "explain: the agent is allowed; its process:path fact is the script the kernel recorded, not /proc's python3"
else failed "explain of the agent: exit $rc: $doc"; fi
doc=$(ctl explain --pid "$interpreter" --binding agent-key -o json); rc=$?
if explained 1 "$rc" 'not d["allowed"] and not k["process:path"]["matched"] and k["process:uid"]["matched"]' <<<"$doc"
then pass "explain: 'python3 script' as uid 1000 is denied on process:path (the kernel recorded the interpreter)"
else failed "explain of 'python3 script': exit $rc: $doc"; fi
out=$(ctl explain --pid "$root_agent" --binding agent-key); rc=$?
if [[ $rc == 1 ]] && grep -q "DENIED: no selector alternative matches (alternative 1: process:uid did not match)" <<<"$out" &&
   grep -Eq "process:uid .*uid 0 +NO MATCH$" <<<"$out"; then
  pass "explain: the agent's script run by root is denied, naming process:uid and uid 0"
else failed "explain of the script as root: exit $rc: $out"; fi

doc=$(ctl identities -o json); rc=$?
if [[ $rc == 0 ]] && /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1]); agent, interpreter, root_agent = map(int, sys.argv[2:5])
matched = {m["pid"]: m for m in d["matches"]}
missed = {m["pid"]: m for m in d["programMismatches"]}
assert matched[agent]["identity"] == "ai-agent" and matched[agent]["exeSource"] == "kernel", matched
assert interpreter not in matched and interpreter not in missed, (matched, missed)
assert root_agent not in matched, matched
assert [k["key"] for k in missed[root_agent]["unmatched"]] == ["process:uid"], missed
' "$doc" "$agent_pid" "$interpreter" "$root_agent"; then
  pass "identities: the agent matches; its script run by root is listed apart, missing process:uid"
else failed "credgatectl identities: exit $rc: $doc"; fi

cleanup
kill -TERM "$daemon"; wait "$daemon" 2>/dev/null
kill "$devvault_pid" 2>/dev/null; wait "$devvault_pid" 2>/dev/null
((failures)) && { echo "--- credgated.log"; tail -n 20 "$w/credgated.log"; }
finish
