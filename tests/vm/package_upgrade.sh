#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A package upgrade under systemd as PID 1 (CREDGATE_VM_INIT=systemd): the Debian packages of this
# tree installed with dpkg -i, credgate.ko built by DKMS, the seed binding delivered through it to a
# reader looping in the agent's unit while an intruder of the same uid loops outside the identity. Then
# `dpkg -i` of the same package with credgated replaced by a build whose BPF programs differ
# (tests/vm/variant_deb.sh): its postinst runs `credgatectl handover`, then restarts the service. The
# reader must never miss and the intruder never read, across the upgrade and until the new credgated
# has republished and replaced the programs; then exactly one program set is linked. The control: a
# plain `systemctl restart` revokes and removes, and the reader sees the gap.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
source "$(dirname "$0")/programs_lib.sh"
if [[ ! -d /run/systemd/system ]]; then
  echo "this script needs systemd as PID 1: CREDGATE_VM_INIT=systemd tools/vm/run-in-vm 'bash $0'" >&2
  exit 2
fi
require_enforcement
deb=${CREDGATE_DEB:?CREDGATE_DEB is not set}
dkms_deb=${CREDGATE_DKMS_DEB:?CREDGATE_DKMS_DEB is not set}
variant_deb=${CREDGATE_VARIANT_DEB:?CREDGATE_VARIANT_DEB is not set}

w=$CREDGATE_VM_SCRATCH/package-upgrade
mkdir -p "$w/loops"
chmod 0755 "$w"
chown 1000:1000 "$w/loops"
binding=vault-openai-apikeys-binding
agent=/opt/ai-agent/bin/ai-agent
policies=/etc/credgate/policies.d
pins=/sys/fs/bpf/credgate
version=$(dpkg-deb -f "$deb" Version)
new_version=$(dpkg-deb -f "$variant_deb" Version)

# ---- the packages, the module ----------------------------------------------------------------------
if DEBIAN_FRONTEND=noninteractive dpkg -i "$dkms_deb" "$deb" >"$w/install.log" 2>&1 \
   && [[ $(dpkg-query -W -f '${Status} ${Version}\n' credgate credgate-dkms | sort -u) == "install ok installed $version" ]]; then
  pass "dpkg -i installs credgate and credgate-dkms $version"
else
  die "dpkg -i $deb $dkms_deb: $(tail -n 5 "$w/install.log" | tr '\n' ' ')"
fi
credgatectl=/usr/bin/credgatectl
ctl() { "$credgatectl" "$@"; }
# journal ARGS...: credgated's journal after $journal_from's entry (all of it until that is set).
journal_from=()
journal() { journalctl --no-pager -o cat -u credgated "${journal_from[@]}" "$@"; }
# journal_here: from now on, journal shows only what comes next.
journal_here() { journal_from=(--after-cursor="$(journalctl -n 1 -o export | sed -n 's/^__CURSOR=//p')"); }
die_service() { journal >"$w/credgated.log" 2>&1; die "$@"; }
journal_has() { journal | grep -qF -- "$1"; }
# bpftool is named in enforcement.ownerExecutables, so it may read our programs (no one else may); a
# path credgated's sandbox sees (it has its own /tmp) and only root can replace.
bpftool=/opt/credgate-test/bpftool
install -D -m 0755 "$(command -v bpftool)" "$bpftool"
sed -i "s|^  # ownerExecutables: \[/usr/sbin/bpftool\]$|  ownerExecutables: [$bpftool]|" /etc/credgate/credgate.yaml
grep -qx "  ownerExecutables: \[$bpftool\]" /etc/credgate/credgate.yaml || die "could not name $bpftool in /etc/credgate/credgate.yaml"

start_devvault seed-root proj_seed
seed_openai
systemctl stop credgated || die_service "systemctl stop credgated (started by the package) failed"
modprobe credgate || die "modprobe credgate failed: $(dmesg | tail -n 3 | tr '\n' ' ')"
systemctl start credgated || die_service "systemctl start credgated failed"
[[ $(ctl status --json | json_get daemon.enforcement.mode) == enforced ]] || die_service "credgated is not enforcing"
issuer_url=$(ctl issuer | sed -n "s/^# credgated's JWT-SVID issuer: \([^ ]*\) .*/\1/p")
seed_jwt "$issuer_url"
seed_jwt_role openai-apikeys ai-agent

# ---- the reader: the agent's program in the agent's unit, as uid 1000 --------------------------------
# The shell running the agent's script opens its credential itself; until $2/stop exists, one line per
# read in $2/reads and one per refusal or empty read in $2/misses.
mkdir -p "$(dirname "$agent")"
cat >"$agent" <<'EOF'
#!/bin/sh
while [ ! -e "$2/stop" ]; do
  line=
  IFS= read -r line 2>/dev/null <"$1"
  if [ -n "$line" ]; then echo >>"$2/reads"; else echo >>"$2/misses"; fi
done
EOF
chmod 0755 "$agent"
# A new unit's cgroup is followed by credgated once it sees it (a debounce, then a recompile of the
# rules); the unit waits for that before the agent runs, so that no refusal is about that race.
cat >"$w/followed" <<'EOF'
#!/bin/sh
id=$(stat -c %i /sys/fs/cgroup/system.slice/ai-agent.service) || exit 1
i=0
while [ $i -lt 300 ]; do
  journalctl -u credgated -o cat --no-pager | grep -qE "cgroup 'system.slice/ai-agent.service', id ([0-9]+ -> )?$id\)" && exit 0
  sleep 0.2
  i=$((i + 1))
done
echo "credgated did not follow ai-agent.service (cgroup id $id)"
exit 1
EOF
chmod 0755 "$w/followed"

# ---- the seed binding through credgate.ko ---------------------------------------------------------
cp "$CREDGATE_SOURCE_ROOT/policies/examples/ai-agent-openai.yaml" "$policies/"
sed -i "s|http://localhost:8200|$vault|" "$policies/ai-agent-openai.yaml"
systemctl reload credgated || die_service "systemctl reload credgated failed"
poll 120 bound $binding || die_service "$binding did not reach OK: $(ctl status 2>&1 | tail -n 4)"
file=$(ctl get binding $binding -o json | json_get status.sysfs.files.0.path)
[[ $file == /sys/module/credgate/credentials/* && -f $file ]] || die_service "no credential node at '$file'"
lease_a=$(ctl get binding $binding -o json | json_get status.lease.id)
# (Loaded at the first start, Adopted at the next.)
digest_a=$(journal | sed -n "s|.* BPF LSM enforcement under '$pins' (enforce mode; programs \([0-9a-f]\{16\}\).*|\1|p" | tail -n 1)
[[ -n $digest_a ]] || die_service "credgated did not log the digest of its programs"
programs "$w/programs-a"
count=$(wc -l <"$w/programs-a")
((count > 20)) && linked_once "$w/programs-a" || die "bpftool: $count credgate programs, $(links_to "$w/programs-a") links"

: >"$w/loops/reads"; : >"$w/loops/misses"; : >"$w/loops/tries"; : >"$w/loops/leaks"
chown 1000:1000 "$w/loops"/*
cat >/etc/systemd/system/ai-agent.service <<EOF
[Unit]
Description=AI agent reading its credential in a loop
After=credgated.service

[Service]
User=1000
Group=1000
Nice=19
ExecStartPre=+$w/followed
ExecStart=$agent $file $w/loops
EOF
systemctl daemon-reload
systemctl start ai-agent.service || die "ai-agent.service did not start: $(systemctl status ai-agent 2>&1 | tail -n 3)"
# The intruder: a shell of the reader's uid, outside its unit, opening the file itself (`true`: a
# failed redirection of a special builtin such as `:` would end the shell).
as 1000 nice -n 19 sh -c 'while [ ! -e "$0/stop" ]; do echo >>"$0/tries"; if true <"$1"; then echo >>"$0/leaks"; fi; done 2>/dev/null' \
  "$w/loops" "$file" &
intruder_pid=$!
lines() { wc -l <"$w/loops/$1"; }
beyond() { (($(lines "$1") > $2)); }
poll 60 beyond reads 0 && poll 60 beyond tries 0 || die "the loops do not run: $(lines reads) reads, $(lines misses) misses, $(lines tries) tries"
if (($(lines misses) == 0 && $(lines leaks) == 0)); then
  pass "before the upgrade the agent's unit reads $file ($(lines reads) reads) and the intruder of uid 1000 is refused"
else
  die "before the upgrade: $(lines misses) misses, $(lines leaks) intruder reads"
fi

# ---- the upgrade: dpkg -i of the variant; postinst: credgatectl handover, then the restart ---------------
pid_a=$(systemctl show -P MainPID credgated)
journal_here
if DEBIAN_FRONTEND=noninteractive dpkg -i "$variant_deb" >"$w/upgrade.log" 2>&1 \
   && [[ $(dpkg-query -W -f '${Version}' credgate) == "$new_version" ]]; then
  pass "dpkg -i upgrades credgate $version to $new_version (credgated with other BPF programs)"
else
  die_service "dpkg -i $variant_deb: $(tail -n 5 "$w/upgrade.log" | tr '\n' ' ')"
fi
if grep -q "^handover armed: registered '/usr/sbin/credgated' as a credgated executable" "$w/upgrade.log" \
   && ! grep -q warning "$w/upgrade.log"; then
  pass "postinst ran credgatectl handover: the new /usr/sbin/credgated is registered, the window armed"
else
  failed "postinst's handover: $(grep -iE 'handover|warning' "$w/upgrade.log" | tr '\n' ' ')"
fi
pid_b=$(systemctl show -P MainPID credgated)
if [[ $pid_b != "$pid_a" && $(systemctl is-active credgated) == active ]] && poll 60 journal_has "Stopping for a handover"; then
  pass "postinst restarted credgated (pid $pid_a -> $pid_b), whose stop was a handover"
else
  failed "after the upgrade: pid $pid_a -> $pid_b, $(systemctl is-active credgated); journal: $(journal | grep -m2 Stopping | tr '\n' ' ')"
fi
kept=$(journal | grep -F "Handing over binding '$binding': its file '$file' and its login token (accessor '" | tail -n 1)
accessor=$(sed -n "s#.*(accessor '\([^']*\)', lease '$lease_a', expires at .*#\1#p" <<<"$kept")
if [[ -n $accessor ]]; then
  pass "the old credgated logged the kept token by accessor '$accessor' and lease '$lease_a' (not the token)"
else
  failed "no kept-token line naming lease '$lease_a': '$kept'"
fi
# The new credgated replaced the programs of the old, and republishes over the node it kept.
poll 120 journal_has "Replaced the pinned BPF programs under '$pins' (enforce mode): programs $digest_a by this build's" \
  || failed "the new credgated does not log that it replaced the programs $digest_a: $(journal | grep -m3 'enforce:' | tr '\n' ' ')"
digest_b=$(journal | sed -n "s|.*Replaced the pinned BPF programs under '$pins' (enforce mode): programs $digest_a by this build's \([0-9a-f]\{16\}\),.*|\1|p" | tail -n 1)
if [[ -n $digest_b && $digest_b != "$digest_a" ]]; then pass "the new credgated logs that it replaced the programs $digest_a by its own $digest_b"
else failed "the new credgated's programs: '$digest_b' (the old: $digest_a)"; fi
republished() { bound $binding && [[ $(ctl get binding $binding -o json | json_get status.lease.id) != "$lease_a" ]]; }
if poll 180 republished && journal_has "Kept '$file' from the previous credgated: the kernel still protects it"; then
  pass "the new credgated kept the node $file the old one left and published a new secret into it"
else
  failed "after the upgrade: $(ctl status 2>&1 | tail -n 3 | tr '\n' ' '); $(journal | grep -F "$file" | tail -n 2 | tr '\n' ' ')"
fi
# The loops go on past the republish, then stop.
reads=$(lines reads) tries=$(lines tries)
poll 60 beyond reads "$reads" && poll 60 beyond tries "$tries" || failed "the loops stopped after the republish"
# The old programs go once the kernel frees their links (deferred after the unpin).
programs_b_only() { programs "$w/programs-b"; [[ $(wc -l <"$w/programs-b") == "$count" ]]; }
poll 30 programs_b_only
awk '{print $2}' "$w/programs-a" | sort >"$w/ids-a"; awk '{print $2}' "$w/programs-b" | sort >"$w/ids-b"
same_ids=$(comm -12 "$w/ids-a" "$w/ids-b" | wc -l)
if [[ $(wc -l <"$w/programs-b") == "$count" && $same_ids == 0 ]] && poll 30 linked_once "$w/programs-b"; then
  pass "after the upgrade exactly one program set is linked: the new credgated's $count programs, each behind one link"
else
  failed "after the upgrade: $(wc -l <"$w/programs-b") credgate programs ($same_ids of the old), $(links_to "$w/programs-b") links to them"
fi
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Vault-Token: $bao_token" --data "{\"accessor\":\"$accessor\"}" \
  "$vault/v1/auth/token/lookup-accessor")
if [[ $status == 200 ]]; then pass "the handed-over token is still valid in Vault (it ends at its expiry)"
else failed "lookup-accessor of the handed-over token answered $status"; fi
touch "$w/loops/stop"
wait "$intruder_pid"
poll 30 sh -c '! systemctl is-active --quiet ai-agent.service'
reads=$(lines reads) misses=$(lines misses) tries=$(lines tries) leaks=$(lines leaks)
if ((reads > 0 && misses == 0)); then pass "the agent read $reads times across the package upgrade and was never refused"
else failed "the agent missed $misses of $((reads + misses)) reads across the package upgrade"; fi
if ((tries > 0 && leaks == 0)); then pass "the intruder (uid 1000, outside the identity) never read the credential in $tries tries"
else failed "the intruder read the credential $leaks times in $tries tries"; fi

# ---- control: a restart without handover revokes, and the reader sees the gap ------------------------
rm -f "$w/loops/stop"
: >"$w/loops/reads"; : >"$w/loops/misses"
systemctl start ai-agent.service || die "ai-agent.service did not start again"
poll 60 beyond reads 0 || die "the reader does not run again"
lease_b=$(ctl get binding $binding -o json | json_get status.lease.id)
accessor_b=$(journal | sed -n "s#.*lease '$lease_b',.*token accessor '\([^']*\)'.*#\1#p" | tail -n 1)
journal_here
systemctl restart credgated || die_service "systemctl restart credgated failed"
poll 180 bound $binding || die_service "$binding did not reach OK after the restart"
touch "$w/loops/stop"
poll 30 sh -c '! systemctl is-active --quiet ai-agent.service'
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Vault-Token: $bao_token" --data "{\"accessor\":\"$accessor_b\"}" \
  "$vault/v1/auth/token/lookup-accessor")
if [[ -n $accessor_b && $status == 400 ]] && journal_has "Stopping: revoking every token, removing every credential file"; then
  pass "control: systemctl restart without a handover revoked the current token (accessor '$accessor_b')"
else
  failed "control: the restart without handover: token '$accessor_b' lookup answered $status; $(journal | grep Stopping | tail -n 1)"
fi
if (($(lines misses) > 0)); then
  pass "control: without a handover the agent was refused $(lines misses) times while credgated restarted"
else
  failed "control: the agent missed nothing across a restart without handover ($(lines reads) reads): the test cannot tell"
fi

systemctl stop credgated
kill "$devvault_pid" 2>/dev/null; wait "$devvault_pid" 2>/dev/null
if ((failures)); then journal | tail -n 40; fi
finish
