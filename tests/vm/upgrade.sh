#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An upgrade with no moment unprotected, in one boot. credgated of this build (A) enforces for a bound
# reader while an intruder of the same uid keeps trying; a package-style upgrade renames a build whose
# BPF programs differ (B, the test build's credgated-variant) over A's binary, a reload registers it,
# A is killed and B started: B attaches its programs before it unpins A's, and logs what it replaced.
# Then B restarted adopts its own programs, and A installed again replaces B's (the own-id table does
# not fill up). The reader and the intruder loop across every switch.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
source "$(dirname "$0")/programs_lib.sh"
require_enforcement
variant=${CREDGATE_CREDGATED_VARIANT:?CREDGATE_CREDGATED_VARIANT is not set}

w=$CREDGATE_VM_SCRATCH/upgrade
root=$w/credentials
pins=/sys/fs/bpf/credgate
mkdir -p "$w/policies.d" "$w/agent" "$w/sbin" "$w/bin" "$w/loops"
chmod 0755 "$w" "$w/agent" "$w/sbin" "$w/bin"
chown 1000:1000 "$w/loops"

# The installed binary: each version is put in place as a package does it, by a rename over the file.
sbin=$w/sbin/credgated
install_binary() { cp "$1" "$sbin.new" && chmod 0755 "$sbin.new" && mv -f "$sbin.new" "$sbin"; }
# bpftool is named in enforcement.ownerExecutables, so it may read our programs (no one else may).
bpftool=$w/bin/bpftool
cp "$(command -v bpftool)" "$bpftool"
# logged LOG PATTERN: the log has a line matching PATTERN (fixed string).
logged() { grep -qF -- "$2" "$w/$1"; }
own_ids() { "$bpftool" -j map dump pinned "$pins/maps/credgate_own_ids" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# ---- the reader and the intruder -----------------------------------------------------------------
reader=$w/agent/reader
cat >"$reader" <<'EOF2'
#!/bin/sh
# The bound reader: the shell running this script opens its credential itself (no other program is
# executed). With a directory $2: until $2/stop exists, one line per read in $2/reads and one per
# refusal or empty read in $2/misses. Without: one read, its length printed.
if [ -z "$2" ]; then IFS= read -r line <"$1" && echo "reader: read ${#line} bytes"; exit; fi
while [ ! -e "$2/stop" ]; do
  if IFS= read -r line <"$1" && [ -n "$line" ]; then echo >>"$2/reads"; else echo >>"$2/misses"; fi
done
EOF2
chmod 0755 "$reader"

# ---- devvault and credgated A, enforcing -------------------------------------------------------
start_devvault upgrade-root proj_upgrade
write_credgate_yaml upgrade-node
printf 'enforcement:\n  ownerExecutables: [%s]\n' "$bpftool" >>"$w/credgate.yaml"
install_binary "$credgated"
"$sbin" --config "$w/credgate.yaml" 2>"$w/credgated-a.log" &
daemon=$!
poll 90 ctl status || die "credgated did not answer on its control socket"
require_enforcing
seed_openai upgrade proj_upgrade
seed_jwt "$issuer"
seed_jwt_role reader reader 0 1h
cat >"$w/policies.d/reader.yaml" <<EOF2
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: vault-openai}
spec:
  vault: {address: "$vault", jwtAuthMethodPath: jwt, role: reader, path: openai/creds/my-role, audience: [vault]}
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: reader}
spec:
  workloadID: reader
  selectors:
    - process:path: $reader
      process:uid: 1000
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: upgrade-key}
spec:
  workloadID: reader
  credentialSource: vault-openai
  propagation: {file: {}}
EOF2
ctl reload >/dev/null || die "credgatectl reload failed"
wait_bound upgrade-key
file=$(ctl get binding upgrade-key -o json | json_get status.file.files.0.path)
[[ -f $file ]] || die "no credential file at '$file'"
digest_a=$(sed -n "s|.*Loaded BPF LSM enforcement under '$pins' (enforce mode; programs \([0-9a-f]\{16\}\)).*|\1|p" "$w/credgated-a.log")
[[ -n $digest_a ]] || die "credgated A did not log the digest of the programs it loaded"

expect_read "control: the reader's script (uid 1000) reads the credential" "reader: read" as 1000 "$reader" "$file"
# The intruder: a shell of the reader's uid opening the file itself (it is not the reader's script),
# with `true`: a failed redirection of a special builtin such as `:` would end the shell.
plain=$w/plain.json
printf '{"api_key":"not-a-secret"}\n' >"$plain"
chown --reference="$file" "$plain"; chmod --reference="$file" "$plain"
expect_ok "control: a shell of uid 1000 opens a plain file of the credential's owner and mode" \
  as 1000 sh -c 'true <"$0"' "$plain"
expect_denied "control: a shell of uid 1000 (not the reader's script) is refused the credential" \
  as 1000 sh -c 'true <"$0"' "$file"
programs "$w/programs-a"
count=$(wc -l <"$w/programs-a")
if ((count > 20)) && [[ $(links_to "$w/programs-a") == "$count" ]]; then
  pass "bpftool (a registered credgated executable) sees A's $count programs, each behind one link"
else
  die "bpftool sees $count credgate programs, $(links_to "$w/programs-a") links to them: $(head -c 300 "$w/programs-a")"
fi
own_a=$(own_ids)

# The loops run from here to the end: the reader must never miss, the intruder never read. They run
# niced, so that credgated's loads are not starved on the guest's two CPUs.
: >"$w/loops/reads"; : >"$w/loops/misses"; : >"$w/loops/tries"; : >"$w/loops/leaks"
chown 1000:1000 "$w/loops"/*
as 1000 nice -n 19 "$reader" "$file" "$w/loops" &
reader_pid=$!
as 1000 nice -n 19 sh -c 'while [ ! -e "$0/stop" ]; do echo >>"$0/tries"; if true <"$1"; then echo >>"$0/leaks"; fi; done 2>/dev/null' \
  "$w/loops" "$file" &
intruder_pid=$!
# beyond FILE N: FILE has more than N lines (the loop writing it is still going).
beyond() { (($(wc -l <"$w/loops/$1") > $2)); }
# switched LOG: credgated started from the installed binary after a kill -9 (sets $daemon). Both loops
# must go on while it loads its programs and adopts or swaps them in (until it logs the outcome), and
# after.
switched() {
  local reads tries
  reads=$(wc -l <"$w/loops/reads") tries=$(wc -l <"$w/loops/tries")
  "$sbin" --config "$w/credgate.yaml" 2>"$w/$1" &
  daemon=$!
  poll 120 grep -qE '^(<[0-9]>)?enforce: (Adopted|Replaced)' "$w/$1" || die "credgated ($1) did not take over the pins"
  if beyond reads "$reads" && beyond tries "$tries"; then
    pass "both loops ran while $1 loaded its programs and took over the pins"
  else
    failed "while $1 loaded and took over: $(($(wc -l <"$w/loops/reads") - reads)) reads, $(($(wc -l <"$w/loops/tries") - tries)) intruder tries"
  fi
  poll 120 ctl status && poll 120 bound upgrade-key || die "credgated ($1) did not bring upgrade-key to OK"
  reads=$(wc -l <"$w/loops/reads") tries=$(wc -l <"$w/loops/tries")
  poll 60 beyond reads "$reads" || failed "the reader read nothing after $1 took over"
  poll 60 beyond tries "$tries" || failed "the intruder tried nothing after $1 took over"
}
poll 60 beyond reads 0 && poll 60 beyond tries 0 || die "the loops do not run"

# ---- upgrade: B renamed over A's binary, registered by a reload, A killed, B started ------------
install_binary "$variant"
kill -HUP "$daemon"
if poll 60 logged credgated-a.log "Registered '$sbin'"; then
  pass "a reload registers the new binary at credgated's path as a credgated executable"
else
  die "A did not register the new binary on reload: $(grep -m3 -E 'enforce|Reload' "$w/credgated-a.log" | tr '\n' ' ')"
fi
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
switched credgated-b.log
digest_b=$(sed -n "s|.*Replaced the pinned BPF programs under '$pins' (enforce mode): programs $digest_a by this build's \([0-9a-f]\{16\}\),.*|\1|p" "$w/credgated-b.log")
if [[ -n $digest_b && $digest_b != "$digest_a" ]]; then
  pass "B logs that it replaced A's programs ($digest_a) by its own ($digest_b)"
else
  failed "B's log does not name A's programs $digest_a as replaced: $(grep -m3 'enforce:' "$w/credgated-b.log" | tr '\n' ' ')"
fi
# The old programs go once the kernel frees their links (deferred after the unpin).
programs_b_only() { programs "$w/programs-b"; [[ $(wc -l <"$w/programs-b") == "$count" ]]; }
poll 30 programs_b_only || failed "A's programs are still loaded beside B's: $(wc -l <"$w/programs-b") credgate programs"
tag_a=$(tag_of "$w/programs-a" credgate_sb_umount) tag_b=$(tag_of "$w/programs-b" credgate_sb_umount)
if [[ -n $tag_a && -n $tag_b && $tag_a != "$tag_b" ]] && logged credgated-b.log "credgate_sb_umount $tag_a -> $tag_b"; then
  pass "bpftool shows credgate_sb_umount's tag changed ($tag_a -> $tag_b), as B logged"
else
  failed "credgate_sb_umount: bpftool tags '$tag_a' -> '$tag_b'; B logged: $(grep -o 'changed: .*' "$w/credgated-b.log")"
fi
# (No process substitution: the guest has no /dev/fd.)
awk '{print $2}' "$w/programs-a" | sort >"$w/ids-a"; awk '{print $2}' "$w/programs-b" | sort >"$w/ids-b"
same_ids=$(comm -12 "$w/ids-a" "$w/ids-b" | wc -l)
if [[ -s $w/ids-a && $(wc -l <"$w/ids-b") == "$count" && $same_ids == 0 ]] && poll 30 linked_once "$w/programs-b"; then
  pass "after A -> B only B's $count programs are loaded, each behind exactly one link (no program of A is left)"
else
  failed "after A -> B: $same_ids program ids of A still loaded; $(links_to "$w/programs-b") links point at B's $(wc -l <"$w/programs-now") programs"
fi
if [[ ! -e $pins/links-next ]]; then pass "no staging directory is left under $pins"
else failed "$pins/links-next is left: $(ls "$pins/links-next" | head -3 | tr '\n' ' ')"; fi

# ---- control: the same build restarted adopts ---------------------------------------------------
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
switched credgated-b2.log
programs "$w/programs-b2"
if logged credgated-b2.log "Adopted BPF LSM enforcement under '$pins' (enforce mode; programs $digest_b, this build's)" &&
  ! logged credgated-b2.log "Replaced the pinned" && cmp -s "$w/programs-b" "$w/programs-b2"; then
  pass "B restarted adopts its own programs ($digest_b): the same program ids, nothing replaced"
else
  failed "B restarted: $(grep -m2 -E 'Adopted|Replaced' "$w/credgated-b2.log" | tr '\n' ' '); programs $(diff "$w/programs-b" "$w/programs-b2" | head -4 | tr '\n' ' ')"
fi
if linked_once "$w/programs-b"; then
  pass "after B's restart only B's $count programs are loaded, each behind exactly one link"
else
  failed "after B's restart: $(links_to "$w/programs-b") links point at B's programs, $(wc -l <"$w/programs-now") credgate programs loaded"
fi

# ---- back to A: replaced again, the own-id table does not grow ------------------------------------
install_binary "$credgated"
kill -HUP "$daemon"
poll 60 logged credgated-b2.log "Registered '$sbin'" || failed "B did not register A's binary on reload"
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
switched credgated-a2.log
if logged credgated-a2.log "Replaced the pinned BPF programs under '$pins' (enforce mode): programs $digest_b by this build's $digest_a,"; then
  pass "A installed again replaces B's programs ($digest_b) by its own ($digest_a)"
else
  failed "A again: $(grep -m2 -E 'Adopted|Replaced' "$w/credgated-a2.log" | tr '\n' ' ')"
fi
programs_a_only() { programs "$w/programs-a2"; [[ $(wc -l <"$w/programs-a2") == "$count" ]]; }
if poll 30 programs_a_only && awk '{print $2}' "$w/programs-a2" | sort >"$w/ids-a2" &&
  [[ $(comm -12 "$w/ids-b" "$w/ids-a2" | wc -l) == 0 ]] && poll 30 linked_once "$w/programs-a2"; then
  pass "after B -> A only A's $count programs are loaded, each behind exactly one link (no program of B is left)"
else
  failed "after B -> A: $(comm -12 "$w/ids-b" "$w/ids-a2" | wc -l) program ids of B still loaded; $(links_to "$w/programs-a2") links point at A's $(wc -l <"$w/programs-now") programs"
fi
if [[ $(tag_of "$w/programs-a2" credgate_sb_umount) == "$tag_a" ]]; then pass "credgate_sb_umount has A's tag again ($tag_a)"
else failed "credgate_sb_umount's tag is $(tag_of "$w/programs-a2" credgate_sb_umount), not A's $tag_a"; fi
# Two replacements would overflow it (CREDGATE_MAX_OWN_IDS) if the replaced versions' ids stayed.
own_now=$(own_ids)
if [[ -n $own_now ]] && ((own_now <= own_a)); then
  pass "credgate_own_ids holds $own_now entries after two replacements, $own_a after the first load"
else
  failed "credgate_own_ids holds '$own_now' entries after two replacements, $own_a after the first load"
fi

# ---- the loops ---------------------------------------------------------------------------------
touch "$w/loops/stop"
wait "$reader_pid" "$intruder_pid"
reads=$(wc -l <"$w/loops/reads") misses=$(wc -l <"$w/loops/misses")
tries=$(wc -l <"$w/loops/tries") leaks=$(wc -l <"$w/loops/leaks")
if ((reads > 0 && misses == 0)); then pass "the bound reader read $reads times across 3 switches and was never refused"
else failed "the bound reader missed $misses of $((reads + misses)) reads across the switches"; fi
if ((tries > 0 && leaks == 0)); then pass "the intruder (a shell of uid 1000) never opened the credential in $tries tries across 3 switches"
else failed "the intruder opened the credential $leaks times in $tries tries"; fi

kill -TERM "$daemon"; wait "$daemon" 2>/dev/null
kill "$devvault_pid" 2>/dev/null; wait "$devvault_pid" 2>/dev/null
if ((failures)); then
  for f in credgated-a.log credgated-b.log credgated-b2.log credgated-a2.log; do echo "--- $f"; grep -E 'enforce|protection' "$w/$f" | tail -n 8; done
fi
finish
