#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgated as the system manager runs it, in a guest booted with systemd as PID 1
# (CREDGATE_VM_INIT=systemd): installed with dpkg -i from the Debian packages built from this tree,
# credgate.ko built by DKMS for the guest's kernel, the service started, reloaded (a broken policy
# failing the reload) and stopped with systemctl under the unit the package installs, delivering the
# seed scenario through credgate.ko to the agent's unit and a second binding through the file backend
# to another; journald keeps its lines.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
if [[ ! -d /run/systemd/system ]]; then
  echo "this script needs systemd as PID 1: CREDGATE_VM_INIT=systemd tools/vm/run-in-vm 'bash $0'" >&2
  exit 2
fi
require_enforcement
deb=${CREDGATE_DEB:?CREDGATE_DEB is not set}
dkms_deb=${CREDGATE_DKMS_DEB:?CREDGATE_DKMS_DEB is not set}
src=${CREDGATE_SOURCE_ROOT:?CREDGATE_SOURCE_ROOT is not set}
example=$src/policies/examples/ai-agent-openai.yaml

w=$CREDGATE_VM_SCRATCH/systemd-service
mkdir -p "$w"
sysroot=/sys/module/credgate/credentials
binding=vault-openai-apikeys-binding
second=second-agent-binding
agent=/opt/ai-agent/bin/ai-agent
policies=/etc/credgate/policies.d
kernel=$(uname -r)

# ---- credgate's packages ----------------------------------------------------------------------------
# dpkg -i of both packages, as an operator installs them. Their dependencies are installed already:
# the guest's root is the host's, under an overlay that takes the guest's writes (dpkg's database
# included), so dpkg must find every one of them without apt. credgate-dkms's maintainer script has
# DKMS build credgate.ko for the running kernel, the guest's, against its linux-headers package.
version=$(dpkg-deb -f "$deb" Version)
if DEBIAN_FRONTEND=noninteractive dpkg -i "$dkms_deb" "$deb" >"$w/install.log" 2>&1 \
   && [[ $(dpkg-query -W -f '${Status} ${Version}\n' credgate credgate-dkms | sort -u) == "install ok installed $version" ]]; then
  pass "dpkg -i installs credgate and credgate-dkms $version, their dependencies met by the installed packages"
else
  die "dpkg -i $deb $dkms_deb: $(tail -n 5 "$w/install.log" | tr '\n' ' ')"
fi
if out=$(dpkg --verify credgate credgate-dkms 2>&1) && [[ -z $out ]]; then
  pass "dpkg --verify: every file of both packages is as packaged"
else
  failed "dpkg --verify credgate credgate-dkms: $(head -n 3 <<<"$out" | tr '\n' ' ')"
fi
fragment=$(systemctl show -P FragmentPath credgated)
if [[ -x /usr/sbin/credgated && -x /usr/bin/credgatectl && -d $policies ]] \
   && [[ $(dpkg-query -S "$fragment" 2>/dev/null) == "credgate: $fragment" ]] \
   && cmp -s "$src/packaging/credgate.yaml" /etc/credgate/credgate.yaml; then
  pass "the package puts credgated, credgatectl and /etc/credgate in place; systemd loads its unit, $fragment"
else
  die "after dpkg -i: $(ls -l /usr/sbin/credgated /usr/bin/credgatectl /etc/credgate 2>&1 | tr '\n' ' '), unit from '$fragment' ($(dpkg-query -S "$fragment" 2>&1))"
fi
# DKMS built the module here, for this kernel, and installed it where modprobe looks first.
dkms_ko=/lib/modules/$kernel/updates/dkms/credgate.ko
# (dkms may also print "echo: write error: Broken pipe" on stderr: its check for /proc races.)
status=$(dkms status -m credgate -v "$version" -k "$kernel" 2>"$w/dkms-status.log")
if [[ $status == "credgate/$version, $kernel, $(uname -m): installed" && $(modinfo -n credgate 2>&1) == "$dkms_ko" ]] \
   && [[ $(modinfo -F vermagic "$dkms_ko") == "$kernel "* && $(modinfo -F version "$dkms_ko") == "$version" ]]; then
  pass "DKMS built credgate.ko $version for the guest's kernel $kernel at installation; modprobe finds it in $dkms_ko"
else
  die "DKMS: '$status'; modprobe would load '$(modinfo -n credgate 2>&1)' (vermagic '$(modinfo -F vermagic "$dkms_ko" 2>&1)'); install log: $(grep -iE 'dkms|error|building' "$w/install.log" | tail -n 5 | tr '\n' ' ')"
fi
# The package enables and starts the service (README, "The Debian packages").
if [[ $(systemctl is-enabled credgated) == enabled && $(systemctl is-active credgated) == active ]]; then
  pass "the package enabled credgated.service and started it"
else
  failed "after dpkg -i credgated.service is $(systemctl is-enabled credgated 2>&1) and $(systemctl is-active credgated 2>&1)"
fi
# From here on, the operator's commands: the installed credgatectl, its default control socket.
credgatectl=/usr/bin/credgatectl
ctl() { "$credgatectl" "$@"; }
# journal ARGS...: journalctl ARGS, after $journal_from's entries (none until it is set).
journal_from=()
journal() { journalctl --no-pager -o cat "${journal_from[@]}" "$@"; }
# die, with credgated's journal among the logs it shows.
die_service() { journal -u credgated >"$w/credgated.log" 2>&1; die "$@"; }
# journal_has UNIT TEXT: the journal of UNIT has a line with TEXT (journald may take a moment).
journal_has() { journal -u "$1" | grep -qF -- "$2"; }
# key_code KEEP_FILE: what the OpenAI stand-in answers to the key the agent kept (never printed).
key_code() {
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$1")" -H 'OpenAI-Organization: org-seed' \
    -H 'OpenAI-Project: proj_seed' "$openai/v1/models"
}

# ---- the agents: the seed's program, each in a unit of its own ------------------------------------
mkdir -p "$(dirname "$agent")"
install -m 0755 "$(dirname "$0")/openai_agent.py" "$agent"
# Each start of a unit makes a new cgroup, which credgated follows once it sees it (a debounce, then
# a recompile of the rules: seconds under emulation). The agents' units wait for that before the
# agent runs, with this helper (as root, in the unit's cgroup), so that a read tells about the rules
# and not about that race: followed UNIT waits until credgated's journal says it applied the rules
# for this cgroup of UNIT.
cat >"$w/followed" <<'EOF'
#!/bin/sh
unit=$1
id=$(stat -c %i "/sys/fs/cgroup/system.slice/$unit") || exit 1
i=0
while [ $i -lt 300 ]; do
  journalctl -u credgated -o cat --no-pager | grep -qE "cgroup 'system.slice/$unit', id ([0-9]+ -> )?$id\)" && exit 0
  sleep 0.2
  i=$((i + 1))
done
echo "credgated did not follow $unit (cgroup id $id)"
exit 1
EOF
chmod 0755 "$w/followed"
# agent_unit NAME: NAME.service runs the agent once as uid 1000 on the file named in /etc/NAME.env,
# keeping its key in /var/lib/NAME/key; what it prints goes to /run/NAME.out.
agent_unit() {
  cat >"/etc/systemd/system/$1.service" <<EOF
[Unit]
Description=AI agent $1
After=credgated.service

[Service]
Type=oneshot
User=1000
Group=1000
StateDirectory=$1
EnvironmentFile=/etc/$1.env
ExecStartPre=+$w/followed $1.service
ExecStart=$agent \${CREDENTIAL} $openai /var/lib/$1/key
StandardOutput=append:/run/$1.out
StandardError=inherit
EOF
}
agent_unit ai-agent
agent_unit second-agent
systemctl daemon-reload
# run_agent NAME FILE: runs NAME.service on FILE; prints its output, fails when the unit failed.
# (Its output is read from a file: a oneshot unit that succeeded is unloaded, its invocation id gone.)
run_agent() {
  echo "CREDENTIAL=$2" >"/etc/$1.env"
  rm -f "/run/$1.out"
  local rc=0
  systemctl start "$1.service" || rc=$?
  cat "/run/$1.out"
  return $rc
}

# ---- devvault as in the seed (its JWT auth needs credgated's issuer), the module, the settings -----
start_devvault seed-root proj_seed
seed_openai
# The module, as README says after installing credgate-dkms: the service stops, modprobe loads what
# DKMS built, the service starts again (its device allow-list is fixed when it starts).
systemctl stop credgated || die_service "systemctl stop credgated (started by the package) failed"
modprobe credgate || die "modprobe credgate failed: $(dmesg | tail -n 3 | tr '\n' ' ')"
[[ -d $sysroot && -c /dev/credgate ]] || die "credgate.ko loaded but $sysroot or /dev/credgate is missing"
if [[ $(cat /sys/module/credgate/srcversion) == "$(modinfo -F srcversion "$dkms_ko")" ]]; then
  pass "modprobe credgate loads the module DKMS built ($dkms_ko)"
else
  failed "the loaded credgate.ko (srcversion $(cat /sys/module/credgate/srcversion)) is not $dkms_ko ($(modinfo -F srcversion "$dkms_ko"))"
fi
# The settings are the package's default /etc/credgate/credgate.yaml, unchanged; no policy yet.
if out=$(ctl validate 2>&1); then pass "credgatectl validate accepts the default settings with an empty $policies"
else failed "credgatectl validate: $(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi

# ---- systemctl start: returns once credgated said READY ---------------------------------------
# From here on the journal says what this start of the service did, not what the package's did.
journal_from=(--after-cursor="$(journalctl -n 1 -o export | sed -n 's/^__CURSOR=//p')")
if out=$(systemctl start credgated 2>&1); then
  state=$(systemctl show -P ActiveState credgated)/$(systemctl show -P SubState credgated)
  if [[ $state == active/running ]]; then pass "systemctl start credgated returns with the service active/running (Type=notify)"
  else failed "after systemctl start: $state"; fi
else
  die_service "systemctl start credgated failed: $out"
fi
# READY comes after the control socket is up and enforcement is attached: no waiting here.
if [[ $(systemctl is-active credgated) == active ]] && status=$(ctl status --json 2>&1) \
   && [[ $(json_get daemon.enforcement.mode <<<"$status") == enforced ]] \
   && [[ $(json_get daemon.delivery.sysfs.moduleLoaded <<<"$status") == True ]]; then
  pass "at READY: systemctl is-active says active, credgatectl status answers, enforcing, credgate.ko seen"
else
  failed "at READY: is-active $(systemctl is-active credgated), status: $(tail -n 3 <<<"$status" | tr '\n' ' ')"
fi
text=$(systemctl show -P StatusText credgated)
if [[ -n $text ]]; then pass "credgated tells systemd its status: '$text'"; else failed "no StatusText (STATUS=)"; fi
pid=$(systemctl show -P MainPID credgated)

# ---- Vault trusts the issuer (README step 4); the seed policy comes with a reload --------------------
issuer_url=$(ctl issuer | sed -n "s/^# credgated's JWT-SVID issuer: \([^ ]*\) .*/\1/p")
[[ -n $issuer_url ]] || die_service "credgatectl issuer printed no issuer URL"
seed_jwt "$issuer_url"
seed_jwt_role openai-apikeys ai-agent
cp "$example" "$policies/ai-agent-openai.yaml"
ctl validate >/dev/null || die "credgatectl validate refuses the shipped example"
systemctl reload credgated || die_service "systemctl reload credgated failed"
poll 120 bound $binding || die_service "the binding did not reach OK after systemctl reload: $(ctl status 2>&1 | tail -n 4)"
file=$(ctl get binding $binding -o json | json_get status.sysfs.files.0.path)
uuid=$(spiffe_uuid ai-agent)
if [[ $file == "$sysroot/$uuid/crb-$binding/vault.json" && -f $file ]]; then
  pass "systemctl reload applies the seed policy: $binding is OK and publishes $file"
else
  die_service "unexpected credential path '$file' (wanted $sysroot/$uuid/crb-$binding/vault.json)"
fi
ino=$(stat -c %i "$file")

# ---- the agent's unit reads; nobody else does ---------------------------------------------------
expect_read "ai-agent.service (the agent's program as uid 1000) reads vault.json and its key works" \
  "GET /v1/models -> 200" run_agent ai-agent "$file"
expect_denied "intruder: cat as another uid (1001)" as 1001 cat "$file"
expect_denied "intruder: cat as root, outside the identity" cat "$file"
expect_denied "intruder: the agent's program as root, outside its unit" "$agent" "$file" "$openai" "$w/stolen"
expect_denied "intruder: the agent's program as uid 1000 in another unit" \
  systemd-run --quiet --wait --pipe --unit=impostor-agent -p User=1000 "$agent" "$file" "$openai" /tmp/stolen

# ---- a policy change through systemctl reload: a second binding appears ---------------------------
# It delivers through the file backend: its file lives on the private mount under /run/credgate,
# which workloads outside credgated's sandbox must see.
seed_jwt_role second-agent second-agent
cat >"$policies/second-agent.yaml" <<EOF
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: vault-openai-second}
spec:
  vault: {address: "$vault", jwtAuthMethodPath: jwt, role: second-agent, path: openai/creds/my-role, audience: [vault]}
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: second-agent}
spec:
  workloadID: second-agent
  selectors:
    - process:path: $agent
      systemd:unit: second-agent.service
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: $second}
spec:
  workloadID: second-agent
  credentialSource: vault-openai-second
  propagation: {file: {}}
EOF
ctl validate >/dev/null || die "credgatectl validate refuses $policies/second-agent.yaml"
systemctl reload credgated || die_service "systemctl reload credgated failed"
if poll 120 bound $second; then
  listed=$(ctl status 2>&1)
  if grep -q "$binding" <<<"$listed" && grep -q "$second" <<<"$listed"; then
    pass "systemctl reload applies a new policy file: credgatectl status lists $second (OK) beside $binding"
  else failed "credgatectl status after the reload: $(tr '\n' ' ' <<<"$listed")"; fi
else
  die_service "$second did not reach OK after systemctl reload: $(ctl status 2>&1 | tail -n 4)"
fi
if poll 30 journal_has credgated "Reload done: 1 started, 0 restarted, 0 stopped, 1 unchanged" \
   && [[ $(stat -c %i "$file") == "$ino" && $(systemctl show -P MainPID credgated) == "$pid" ]]; then
  pass "the reload left $binding running (same node, inode $ino) and credgated in the same process"
else
  failed "reload: $(journal -u credgated | grep 'Reload done' | tail -n 1), inode $(stat -c %i "$file" 2>&1) was $ino, pid $(systemctl show -P MainPID credgated) was $pid"
fi
file2=$(ctl get binding $second -o json | json_get status.file.files.0.path)
uuid2=$(spiffe_uuid second-agent)
if [[ $file2 == "/run/credgate/credentials/$uuid2/crb-$second/vault.json" && -f $file2 ]]; then
  pass "$second publishes $file2 (file backend), seen outside credgated's sandbox"
else
  failed "$second's file: '$file2' (wanted /run/credgate/credentials/$uuid2/crb-$second/vault.json): $(ls -l "$file2" 2>&1)"
fi
expect_read "second-agent.service reads its own key from the file backend, and the key works" "GET /v1/models -> 200" \
  run_agent second-agent "$file2"
expect_denied "intruder: cat as root of the file backend's file" cat "$file2"
expect_denied "ai-agent.service is refused the second agent's file" run_agent ai-agent "$file2"
expect_denied "second-agent.service is refused the first agent's file" run_agent second-agent "$file"

# ---- a broken policy: systemctl reload fails (ExecReload is credgatectl reload); nothing changes ---------
cat >"$policies/broken.yaml" <<EOF
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: broken-binding}
spec:
  workloadID: second-agent
  credentialSource: no-such-source
  propagation: {file: {}}
EOF
if out=$(systemctl reload credgated 2>&1); then
  failed "systemctl reload succeeded with a policy that names no-such-source"
elif bound $binding && bound $second && [[ $(stat -c %i "$file") == "$ino" && $(systemctl show -P MainPID credgated) == "$pid" ]] \
     && [[ $(ctl status --json | json_get daemon.lastReload.ok) == False ]] && poll 30 journal_has credgated "no-such-source"; then
  pass "systemctl reload fails on a broken policy, says why in the journal, and the running policy stays (both bindings OK)"
else
  failed "after the refused reload: $(ctl status 2>&1 | tail -n 3 | tr '\n' ' '); pid $(systemctl show -P MainPID credgated) was $pid"
fi
rm -f "$policies/broken.yaml"

# ---- systemctl stop: every token revoked, every file removed ---------------------------------------
cp /var/lib/ai-agent/key "$w/first.key"
code=$(key_code "$w/first.key")
[[ $code == 200 ]] || failed "control: the first agent's key answers $code before the stop"
curl -s -H "X-Vault-Token: $bao_token" "$vault/v1/sys/devvault/stats" >"$w/stats-before.json"
if systemctl stop credgated && [[ $(systemctl is-active credgated) == inactive ]]; then
  result=$(systemctl show -P Result credgated)/$(systemctl show -P ExecMainStatus credgated)
  if [[ $result == success/0 ]]; then pass "systemctl stop credgated: inactive, credgated exited 0"
  else failed "systemctl stop credgated: result/status $result"; fi
else
  failed "systemctl stop credgated: $(systemctl is-active credgated)"
fi
if [[ ! -e $file && ! -e $file2 && -z $(find "$sysroot" -mindepth 1 2>/dev/null) ]]; then
  pass "after the stop both credentials are gone (credgate.ko's node and the file)"
else
  failed "after the stop: $(find "$sysroot" -mindepth 1 2>&1 | head -n 3 | tr '\n' ' ')"
fi
code=$(key_code "$w/first.key")
if [[ $code == 401 ]]; then pass "after the stop the first agent's key is revoked (/v1/models answers 401)"
else failed "after the stop the first agent's key answers $code, not 401"; fi
stats=$(curl -s -H "X-Vault-Token: $bao_token" "$vault/v1/sys/devvault/stats")
revoked=$(/usr/bin/python3 -c 'import json,sys
before, after = (json.load(open(f))["data"] for f in sys.argv[1:3])
n = lambda d: d["requests"].get("auth/token/revoke-self", {}).get("POST", 0)
print(n(after) - n(before), after["live_tokens"], after["live_openai_keys"])' "$w/stats-before.json" <(echo "$stats"))
read -r calls tokens keys <<<"$revoked"
if [[ $calls -ge 2 && $tokens == 0 && $keys == 0 ]]; then
  pass "devvault saw the login tokens revoke themselves at the stop ($calls revoke-self): no live token, no live OpenAI key"
else
  failed "devvault after the stop: revoke-self calls, live tokens, live keys = $revoked"
fi
restarts=$(systemctl show -P NRestarts credgated)
if [[ $restarts == 0 ]]; then pass "systemd never had to restart credgated (NRestarts=0)"
else failed "systemd restarted credgated $restarts time(s)"; fi

# ---- the journal ------------------------------------------------------------------------------------
missing=""
for line in "daemon: credgated $(credgated --version 2>/dev/null | awk '{print $NF}') ready" \
            "daemon: systemd watchdog enabled" "daemon: Reload done" "daemon: Stopping: revoking every token" \
            "daemon: Stopped" "Started credgated.service" "Stopped credgated.service"; do
  poll 30 journal_has credgated "$line" || missing+=" '$line'"
done
if [[ -z $missing ]]; then
  pass "journalctl -u credgated has the start (ready, watchdog), reload and stop lines of credgated and of systemd"
else
  journal -u credgated >"$w/credgated.log" 2>&1
  failed "journalctl -u credgated lacks:$missing"
fi
expect_ok "rmmod credgate after credgated stopped" rmmod credgate
if ((failures)); then journal -u credgated | tail -n 30; fi
finish
