#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgate.ko refusing an operation under credgated, in one boot: loaded with max_files=1, it holds the
# first binding's file and refuses the second's CREATE with ENOSPC. The first stays delivered and is
# rotated (a REPLACE needs no new file); the second says why in credgatectl status, naming the module
# parameter, and backs off with few logins at Vault and no tokens left behind; removing the first
# binding frees the place and the second is delivered.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
require_enforcement
ko=${CREDGATE_KMOD:?CREDGATE_KMOD is not set}

w=$CREDGATE_VM_SCRATCH/kmod_faults
root=$w/credentials           # the file backend's root: unused while the module is loaded
sysroot=/sys/module/credgate/credentials
param=/sys/module/credgate/parameters/max_files
window=8                      # seconds over which the refused binding's logins are counted
mkdir -p "$w/policies.d" "$w/bin"
chmod 0755 "$w" "$w/bin"

# ---- max_files: out of range refuses the load; 1 is read back ---------------------------------
for bad in 0 4097; do
  if out=$(insmod "$ko" max_files=$bad 2>&1); then
    failed "insmod max_files=$bad was accepted"; rmmod credgate
  elif [[ $out == *"Invalid parameters"* && ! -e /sys/module/credgate ]] &&   # kmod's words for EINVAL
       dmesg | grep -q "credgate: max_files=$bad is out of range: it must be 1 to 4096"; then
    pass "insmod max_files=$bad fails with EINVAL and the kernel log names the range 1 to 4096"
  else
    failed "insmod max_files=$bad: $out; $(dmesg | grep credgate | tail -n 1)"
  fi
done
insmod "$ko" max_files=1 || die "insmod $ko max_files=1 failed"
if [[ $(cat "$param") == 1 && $(stat -c '%a %U' "$param") == "444 root" ]]; then
  pass "$param reads 1 (root's, 0444)"
else
  failed "$param: $(stat -c '%a %U' "$param" 2>&1) '$(cat "$param" 2>&1)'"
fi

# ---- the bound readers: one script, a uid per binding -----------------------------------------
reader=$w/bin/reader
cat >"$reader" <<'EOF'
#!/usr/bin/python3
# A bound reader: prints a digest of the credential it reads (never the credential).
import hashlib, sys
try:
    data = open(sys.argv[1], "rb").read()
except OSError as e:
    print(f"reader: {sys.argv[1]}: {e.strerror}")
    sys.exit(1)
print("read", len(data), "bytes, sha256", hashlib.sha256(data).hexdigest())
EOF
chmod 0755 "$reader"
digest() { as "$1" "$reader" "$2" 2>&1 | sed -n 's/^read [0-9]* bytes, sha256 //p'; }

# ---- devvault: a JWT auth mount per binding, so that devvault counts each binding's logins ------
start_devvault faults-root proj_faults
start_credgated faults-node auto
require_enforcing
seed_openai faults proj_faults
seed_jwt "$issuer"
seed_jwt_role first first-agent 0 1h
bao POST sys/auth/jwt-second '{"type":"jwt"}'
bao POST auth/jwt-second/config "{\"oidc_discovery_url\":\"$issuer\"}"
bao POST auth/jwt-second/role/second '{"role_type":"jwt","user_claim":"sub","bound_audiences":"vault","bound_subject":"spiffe://example.org/second-agent","token_policies":"read-openai-apikeys","token_type":"service","token_num_uses":0,"token_ttl":"1h"}'

# policy FILE NAME UID AUTH_PATH ROLE: a binding NAME of its own source and identity (the reader as UID).
policy() {
  cat >"$w/policies.d/$1" <<EOF
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: $2-source}
spec:
  vault: {address: "$vault", jwtAuthMethodPath: $4, role: $5, path: openai/creds/my-role, audience: [vault]}
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: $2-agent}
spec:
  workloadID: $2-agent
  selectors:
    - process:path: $reader
      process:uid: $3
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: $2}
spec:
  workloadID: $2-agent
  credentialSource: $2-source
  propagation:
    sysfs: {}
EOF
}
binding_doc() { ctl get binding "$1" -o json; }
# explanation BINDING: its last error's explanation in `credgatectl status --json`.
explanation() {
  ctl status --json | /usr/bin/python3 -c 'import json, sys
for b in json.load(sys.stdin)["bindings"]:
    if b["metadata"]["name"] == sys.argv[1]:
        print(b["status"].get("lastError", {}).get("explanation", ""))' "$1"
}
failing() { [[ -n $(explanation "$1") ]]; }
stats() { curl -s -H "X-Vault-Token: $bao_token" "$vault/v1/sys/devvault/stats"; }
logins() { stats | /usr/bin/python3 -c 'import json, sys
print(sum(json.load(sys.stdin)["data"]["requests"].get(sys.argv[1], {}).values()))' "$1"; }

# ---- the first binding takes the module's one place ---------------------------------------------
policy first.yaml first 1000 jwt first
ctl reload >/dev/null || die "credgatectl reload failed: $(ctl reload 2>&1 | tail -n 3)"
wait_bound first
first_file=$(binding_doc first | json_get status.sysfs.files.0.path)
[[ $first_file == "$sysroot/$(spiffe_uuid first-agent)/crb-first/vault.json" && -f $first_file ]] ||
  die "unexpected path for the first binding: '$first_file'"
first_ino=$(stat -c %i "$first_file")
first_sum=$(digest 1000 "$first_file")
if [[ -n $first_sum ]]; then pass "the first binding is OK and its bound reader reads $first_file"
else failed "the first binding's reader: $(as 1000 "$reader" "$first_file" 2>&1)"; fi
expect_denied "control: another uid cannot read the first binding's file" as 1001 "$reader" "$first_file"

# ---- the second binding: refused by the module, explained, backing off --------------------------
policy second.yaml second 1001 jwt-second second
ctl reload >/dev/null || die "credgatectl reload with the second binding failed"
poll 60 failing second || die "the second binding reported no error: $(ctl status 2>&1 | tail -n 3)"
# The window starts at the first refusal, while the delays are still short.
before=$(logins auth/jwt-second/login)
sleep "$window"
after=$(logins auth/jwt-second/login)
n=$((after - before))
want="No space left on device (credgate.ko holds at most 1 file: $param)"
second_file=$sysroot/$(spiffe_uuid second-agent)/crb-second/vault.json
got=$(explanation second)
if [[ $got == *"cannot create '$second_file': $want"* ]]; then
  pass "status --json: the second binding's lastError names ENOSPC and the module parameter"
else
  failed "status --json lastError: '$got'"
fi
row=$(ctl status | grep '^second ')
if [[ $row == *"$want"* && $row == *RETRYING* ]]; then pass "credgatectl status: the second binding is RETRYING, its row names the cause"
else failed "status row: '$row'"; fi
if [[ ! -e $second_file && ! -e $(dirname "$second_file") ]]; then pass "the refused CREATE left no node and no directory"
else failed "a refused CREATE left $(ls -d "$(dirname "$second_file")" 2>&1)"; fi

tokens=$(stats | json_get data.live_tokens)
keys=$(stats | json_get data.live_openai_keys)
# Backoff from 1 s, doubling (with up to 25 % jitter): at most 4 attempts fit in 8 s, against 8 or more
# without it.
if ((n <= 4)); then pass "the refused binding logged in $n time(s) in ${window} s (backoff)"
else failed "the refused binding logged in $n time(s) in ${window} s"; fi
# The first binding's token, and at most one attempt's in flight and one being revoked: a secret that
# could not be delivered does not keep its token (nor its OpenAI key).
if ((tokens <= 3 && keys <= 3)); then pass "no token or key left behind by the refused attempts ($tokens tokens, $keys keys live)"
else failed "$tokens tokens and $keys OpenAI keys live at devvault after the refused attempts"; fi
# Under TCG an attempt is slow enough that few logins fit in any window: the delay status announces
# tells backoff from a fixed retry. Each step multiplies it by 1.5 to 2 (from 1 s, at most 5 min);
# the times are whole seconds.
# backoff_now: "<failures> <seconds from the last failure to the next attempt>", between attempts only.
backoff_now() {
  binding_doc second | /usr/bin/python3 -c 'import json, sys
from datetime import datetime
s = json.load(sys.stdin)["status"]
t = lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
print(s["counters"]["failures"], int((t(s["nextAttemptAt"]) - t(s["lastError"]["at"])).total_seconds()))'
}
poll 30 backoff_now || failed "the second binding shows no next attempt"
read -r attempts delay <<<"$(backoff_now 2>/dev/null || echo 0 0)"  # no /dev/fd in the guest
floor=$(/usr/bin/python3 -c 'import sys; print(int(min(1.5 ** (int(sys.argv[1]) - 1), 225)) - 1)' "$attempts")
total=$(logins auth/jwt-second/login)
if ((total <= attempts + 1)); then pass "one login per refused attempt ($total logins, $attempts attempts)"
else failed "$total logins for $attempts refused attempts"; fi
if ((attempts >= 3 && delay >= floor && delay >= 2)); then
  pass "after $attempts refused attempts the next one waits ${delay} s (backoff, at least ${floor} s)"
else failed "after $attempts refused attempts the next one waits ${delay} s (backoff wants at least ${floor} s, 3 attempts)"; fi
if bound first && [[ $(digest 1000 "$first_file") == "$first_sum" ]]; then
  pass "the first binding stays OK with the same secret while the second is refused"
else failed "the first binding changed: $(ctl status | grep '^first ')"; fi

# ---- control: the same module takes what fits (a REPLACE needs no new file) ----------------------
if out=$(ctl rotate first 2>&1); then pass "credgatectl rotate first succeeds while the module is full"
else failed "credgatectl rotate first: $out"; fi
sum=$(digest 1000 "$first_file")
if [[ -n $sum && $sum != "$first_sum" && $(stat -c %i "$first_file") == "$first_ino" ]]; then
  pass "the rotated secret is in the same node (same inode) and its reader reads it"
else failed "after rotate: sha '$sum' (was $first_sum), inode $(stat -c %i "$first_file") (was $first_ino)"; fi

# ---- recovery: the first binding goes, its place is free, the second is delivered ---------------
# The reload also retries a binding that waits out a failure, so the second need not wait its delay.
rm -f "$w/policies.d/first.yaml"
ctl reload >/dev/null || die "credgatectl reload without the first binding failed"
poll 30 test ! -e "$first_file" || failed "the first binding's node is still there after it was removed"
t0=$SECONDS
if poll 120 bound second; then pass "after the first binding is removed the reload retries the second and it reaches OK ($((SECONDS - t0)) s)"
else die "the second binding did not recover: $(ctl status 2>&1 | tail -n 3)"; fi
if [[ $(binding_doc second | json_get status.sysfs.files.0.path) == "$second_file" && -n $(digest 1001 "$second_file") ]]; then
  pass "the second binding's bound reader reads $second_file"
else failed "the second binding's file: $(as 1001 "$reader" "$second_file" 2>&1)"; fi
if [[ -n $(binding_doc second | json_get status.lastError.resolvedAt) ]] &&
   ! ctl status | grep '^second ' | grep -q 'No space left'; then
  pass "the second binding's error is resolved and no longer shown as current"
else failed "after recovery: $(ctl status | grep '^second ')"; fi

# ---- a clean stop removes the node; the module unloads -----------------------------------------
kill -TERM "$daemon"; wait "$daemon"
rc=$?
if [[ $rc == 0 && -z $(find "$sysroot" -mindepth 1 2>/dev/null) ]]; then pass "SIGTERM: credgated exits 0 and removes its node"
else failed "SIGTERM: exit $rc, left: $(find "$sysroot" -mindepth 1 2>&1 | head -3 | tr '\n' ' ')"; fi
expect_ok "rmmod credgate" rmmod credgate
finish
