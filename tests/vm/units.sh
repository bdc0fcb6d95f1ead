#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# systemd:unit under real credgated enforcing, in one boot: a same-named cgroup made in a delegated
# subtree before the unit runs (by another uid, by the agent's own uid, used by root) is never bound;
# the real unit, started later, stopped and started again (a new cgroup id), is followed without a reload.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
require_enforcement
w=$CREDGATE_VM_SCRATCH/units
root=$w/credentials
cg=/sys/fs/cgroup
unit=system.slice/agent.service
delegated=user.slice/user-1001.slice/user@1001.service
imposter=$delegated/agent.service
# credgated recompiles 100 ms after a unit's cgroup appears; under TCG a recompile and the agent's
# start take seconds. Waits poll for the log line that says the rules were applied, up to this long.
rules_deadline=60
mkdir -p "$w/policies.d" "$w/agent"
chmod 0755 "$w" "$w/agent"

# logged N PATTERN: credgated's log has at least N lines matching PATTERN (fixed string).
logged() { (($(grep -cF -- "$2" "$w/credgated.log") >= $1)); }
cgroup_id() { stat -c %i "$cg/$1"; }

# ---- the agent: a script that opens its credential itself ---------------------------------------
agent=$w/agent/unit-agent
cat >"$agent" <<'EOF'
#!/bin/sh
# The bound program: the shell running this script opens the file (no other program is executed).
IFS= read -r line <"$1" || [ -n "$line" ] || exit 1
echo "agent: read ${#line} bytes"
EOF
chmod 0755 "$agent"

# ---- the system manager's slices exist at boot; the agent's unit does not run yet ----------------
mkdir -p "$cg/system.slice" "$cg/user.slice/user-1001.slice"

# ---- devvault and credgated, enforcing ------------------------------------------------------------
start_devvault units-root proj_units
start_credgated units-node
require_enforcing
seed_openai units proj_units
seed_jwt "$issuer"
seed_jwt_role unit-agent unit-agent 0 1h
# The identity: the agent's script in the agent's unit. The attacker runs that same script, so only
# the unit tells them apart.
cat >"$w/policies.d/agent.yaml" <<EOF
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: vault-openai}
spec:
  vault: {address: "$vault", jwtAuthMethodPath: jwt, role: unit-agent, path: openai/creds/my-role, audience: [vault]}
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: unit-agent}
spec:
  workloadID: unit-agent
  selectors:
    - systemd:unit: agent.service
      process:path: $agent
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: unit-key}
spec:
  workloadID: unit-agent
  credentialSource: vault-openai
  propagation: {file: {}}
EOF
ctl reload >/dev/null || die "credgatectl reload failed"
wait_bound unit-key
file=$(ctl get binding unit-key -o json | json_get status.file.files.0.path)
[[ -f $file ]] || die "no credential file at '$file'"
# A plain file like the credential (same mode, same directory depth), which credgate does not protect.
plain=$w/plain.json
printf '{"api_key":"not-a-secret"}\n' >"$plain"
chmod --reference="$file" "$plain"

# ---- (a) before the unit runs: uid 1001 makes a same-named cgroup in its delegated subtree -------
# delegate UID: user@UID.service as systemd delegates it: the directory and its cgroup.procs belong
# to the user, and the user's manager runs in it.
delegate() {
  local dir=$cg/user.slice/user-$1.slice/user@$1.service
  mkdir -p "$dir"
  chown "$1:$1" "$dir" "$dir/cgroup.procs" "$dir/cgroup.threads" "$dir/cgroup.subtree_control"
}
delegate 1001
delegate 1000
# as_in UID MANAGER TARGET CMD...: CMD as UID in cgroup TARGET. The process starts in the user's
# manager cgroup MANAGER (where systemd would run it); UID moves it on by itself.
cat >"$w/as_in" <<'EOF'
#!/bin/sh
uid=$1 manager=$2 target=$3
shift 3
echo $$ >"$manager/cgroup.procs" || exit 1
exec setpriv --reuid "$uid" --regid "$uid" --clear-groups -- sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$target" "$@"
EOF
chmod 0755 "$w/as_in"
imposter() { "$w/as_in" 1001 "$cg/$delegated" "$cg/$imposter" "$@"; }
expect_ok "control: uid 1001 creates '$imposter' in its delegated subtree" \
  setpriv --reuid 1001 --regid 1001 --clear-groups -- mkdir "$cg/$imposter"
expect_read "control: uid 1001 moves a process into '$imposter' (cgroup.procs lists it)" "$imposter" \
  imposter cat /proc/self/cgroup
expect_read "control: the agent's script as uid 1001 in '$imposter' reads a plain file of the credential's mode" \
  "agent: read" imposter "$agent" "$plain"
expect_denied "the agent's script as uid 1001 in the same-named cgroup '$imposter' is refused the credential" \
  imposter "$agent" "$file"
# The agent's own uid, in its own delegated subtree; and root that is not credgated, in uid 1001's.
own=user.slice/user-1000.slice/user@1000.service
expect_ok "control: uid 1000 creates '$own/agent.service' in its delegated subtree" \
  setpriv --reuid 1000 --regid 1000 --clear-groups -- mkdir "$cg/$own/agent.service"
expect_read "control: the agent's script as uid 1000 in '$own/agent.service' reads a plain file" "agent: read" \
  "$w/as_in" 1000 "$cg/$own" "$cg/$own/agent.service" "$agent" "$plain"
expect_denied "the agent's script as uid 1000 (the agent's own uid) in '$own/agent.service' is refused" \
  "$w/as_in" 1000 "$cg/$own" "$cg/$own/agent.service" "$agent" "$file"
expect_denied "the agent's script as root (not credgated) in '$imposter' is refused" \
  "$w/as_in" 0 "$cg/$delegated" "$cg/$imposter" "$agent" "$file"
ctl reload >/dev/null || failed "credgatectl reload failed"
if poll "$rules_deadline" logged 1 "passed over '$imposter': '$delegated' on its path is not a slice"; then
  pass "after a reload, credgated's warning names '$imposter' as passed over: '$delegated' is not a slice"
else
  failed "after a reload, credgated's log does not name '$imposter' as passed over, with why: $(grep -m2 'agent.service' "$w/credgated.log" | tr '\n' ' ')"
fi
expect_denied "after the reload the agent's script in '$imposter' is still refused" imposter "$agent" "$file"
reloads=$(grep -c 'Reloading the policies' "$w/credgated.log")

# ---- (b) the real unit starts: followed without a reload ------------------------------------------
expect_denied "the agent's script as uid 1000 outside any unit is refused (the unit is part of the identity)" \
  setpriv --reuid 1000 --regid 1000 --clear-groups -- "$agent" "$file"
mkdir "$cg/$unit"
first_id=$(cgroup_id "$unit")
# The unit's main process (sh execs sleep, so $! is the process in the unit).
sh -c 'echo $$ >"$0/cgroup.procs" && exec sleep 600' "$cg/$unit" &
sleeper=$!
if poll "$rules_deadline" logged 1 "systemd:unit 'agent.service' started (cgroup '$unit', id $first_id)"; then
  pass "credgated logs that agent.service started (cgroup id $first_id) and that the rules of 'unit-agent' follow it"
else
  failed "no 'agent.service started' line within ${rules_deadline}s: $(grep -F protection: "$w/credgated.log" | tail -n 3 | tr '\n' ' ')"
fi
expect_read "the agent's script (uid 1000) in the real unit reads its credential, without a reload" "agent: read" \
  in_cgroup "$unit" setpriv --reuid 1000 --regid 1000 --clear-groups -- "$agent" "$file"
expect_denied "with the real unit running, the agent's script in '$imposter' is still refused" \
  imposter "$agent" "$file"
now_reloads=$(grep -c 'Reloading the policies' "$w/credgated.log")
if [[ $now_reloads == "$reloads" ]]; then pass "no reload happened while the unit started"
else failed "a reload happened while the unit started ($reloads -> $now_reloads)"; fi

# ---- (c) the unit stops (processes leave, rmdir) and starts again with a new cgroup id ------------
kill "$sleeper"; wait "$sleeper" 2>/dev/null
unit_empty() { [[ -z $(<"$cg/$unit/cgroup.procs") ]]; }
poll 30 unit_empty || failed "processes did not leave $unit: $(cat "$cg/$unit/cgroup.procs")"
expect_ok "control: the stopped unit's cgroup is removed (rmdir)" rmdir "$cg/$unit"
if poll "$rules_deadline" logged 1 "systemd:unit 'agent.service' stopped (cgroup id $first_id is gone)"; then
  pass "credgated logs that agent.service stopped"
else
  failed "no 'agent.service stopped' line within ${rules_deadline}s: $(grep -F protection: "$w/credgated.log" | tail -n 3 | tr '\n' ' ')"
fi
mkdir "$cg/$unit"
second_id=$(cgroup_id "$unit")
if [[ $second_id != "$first_id" ]]; then pass "control: the restarted unit has a new cgroup id ($first_id -> $second_id)"
else failed "the restarted unit kept cgroup id $first_id"; fi
if poll "$rules_deadline" logged 1 "systemd:unit 'agent.service' started (cgroup '$unit', id $second_id)"; then
  pass "credgated logs that agent.service started again (cgroup id $second_id)"
else
  failed "no second 'agent.service started' line within ${rules_deadline}s: $(grep -F protection: "$w/credgated.log" | tail -n 3 | tr '\n' ' ')"
fi
expect_read "the agent's script in the restarted unit reads its credential again, without a reload" "agent: read" \
  in_cgroup "$unit" setpriv --reuid 1000 --regid 1000 --clear-groups -- "$agent" "$file"
expect_denied "after the restart the agent's script in '$imposter' is still refused" imposter "$agent" "$file"
now_reloads=$(grep -c 'Reloading the policies' "$w/credgated.log")
if [[ $now_reloads == "$reloads" ]]; then pass "no reload happened while the unit stopped and started again"
else failed "a reload happened while the unit restarted ($reloads -> $now_reloads)"; fi
if bound unit-key; then pass "the binding stayed OK throughout"
else failed "binding unit-key is not OK: $(ctl status 2>&1 | tail -n 2 | tr '\n' ' ')"; fi

kill -TERM "$daemon"; wait "$daemon" 2>/dev/null
kill "$devvault_pid" 2>/dev/null; wait "$devvault_pid" 2>/dev/null
if ((failures)); then echo "--- credgated.log"; tail -n 30 "$w/credgated.log"; fi
finish
