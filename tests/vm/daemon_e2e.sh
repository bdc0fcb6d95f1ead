#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# credgated end to end under kernel enforcement, in one boot: devvault set up like the seed scenario,
# credgated delivering keys to a bound agent script, intruders refused, crash, adoption and revocation.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
require_enforcement
attack=${CREDGATE_ATTACK:?CREDGATE_ATTACK is not set}

w=$CREDGATE_VM_SCRATCH/e2e
root=$w/credentials
mkdir -p "$w/policies.d" "$w/agent" "$w/intruder" "$w/keys"
chmod 0755 "$w" "$w/agent" "$w/intruder"
chown 1000:1000 "$w/keys"; chmod 0700 "$w/keys"

key_code() {  # the OpenAI stand-in's answer to a key (the key is read from a file, never printed)
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$1")" -H 'OpenAI-Organization: org-e2e' \
    -H 'OpenAI-Project: proj_e2e' "$openai/v1/models"
}

# ---- the agent, the intruders -----------------------------------------------------------------
agent=$w/agent/ai-agent
cat >"$agent" <<'EOF'
#!/usr/bin/python3
# The bound agent: reads its key from the credential file, calls GET /v1/models with it and keeps the
# key in a file of its own (for the revocation check).
import json, sys, urllib.error, urllib.request
path, url, keep = sys.argv[1:4]
try:
    key = json.load(open(path))["api_key"]
except OSError as e:
    print(f"agent: {path}: {e.strerror}")
    sys.exit(1)
request = urllib.request.Request(url + "/v1/models", headers={
    "Authorization": "Bearer " + key, "OpenAI-Organization": "org-e2e", "OpenAI-Project": "proj_e2e"})
try:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=60) as r:
        status = r.status
except urllib.error.HTTPError as e:
    status = e.code
with open(keep, "w") as f:
    f.write(key)
print(f"agent: GET /v1/models -> {status}")
sys.exit(0 if status == 200 else 1)
EOF
chmod 0755 "$agent"
write_reader "$w/intruder/reader.py"
chmod 0755 "$w/intruder/reader.py"
cp "$agent" "$w/intruder/copy-of-agent"          # same content, another inode
cp /bin/cat "$w/intruder/ai-agent"              # comm "ai-agent", like the agent's
chmod 0755 "$w/intruder/copy-of-agent" "$w/intruder/ai-agent"
agent_sha=$(sha256sum "$agent" | cut -d' ' -f1)

# ---- devvault ---------------------------------------------------------------------------------
start_devvault e2e-root proj_e2e

# ---- credgated, enforcing ---------------------------------------------------------------------
start_credgated e2e-node
mode=$(ctl status --json | json_get daemon.enforcement.mode)
if [[ $mode == enforced ]]; then pass "credgated reports enforcement active (credgatectl status: $mode)"
else die "credgated reports enforcement '$mode', not enforced"; fi

# ---- Vault set up like the seed (token_num_uses=0, token_ttl above the key's ttl) -------------
seed_openai e2e proj_e2e
seed_jwt "$issuer"
for pair in openai-apikeys:ai-agent openai-hashed:hashed-agent; do
  seed_jwt_role "${pair%%:*}" "${pair#*:}" 0 1h
done

# Two bindings: the agent by script path + uid, and the same program by content (process:sha256)
# + uid, whose only candidate file is the path named by the first identity.
cat >"$w/policies.d/agent.yaml" <<EOF
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: vault-openai}
spec:
  vault: {address: "$vault", jwtAuthMethodPath: jwt, role: openai-apikeys, path: openai/creds/my-role, audience: [vault]}
---
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: vault-openai-hashed}
spec:
  vault: {address: "$vault", jwtAuthMethodPath: jwt, role: openai-hashed, path: openai/creds/my-role, audience: [vault]}
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
kind: WorkloadIdentity
metadata: {name: hashed-agent}
spec:
  workloadID: hashed-agent
  selectors:
    - process:sha256: $agent_sha
      process:uid: 1000
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: agent-key}
spec:
  workloadID: ai-agent
  credentialSource: vault-openai
  propagation: {file: {}}
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: hashed-key}
spec:
  workloadID: hashed-agent
  credentialSource: vault-openai-hashed
  propagation: {file: {}}
EOF
ctl reload >/dev/null || die "credgatectl reload failed"
wait_bound agent-key
wait_bound hashed-key 60
file=$(ctl get binding agent-key -o json | json_get status.file.files.0.path)
hashed=$(ctl get binding hashed-key -o json | json_get status.file.files.0.path)
bdir=$(dirname "$file"); udir=$(dirname "$bdir")
[[ $file == "$root"/*/crb-agent-key/vault.json ]] || die "unexpected credential path '$file'"

# ---- the agent reads, intruders are refused ----------------------------------------------------
expect_read "the agent (uid 1000, its script) reads vault.json and its key works on /v1/models" "-> 200" \
  as 1000 "$agent" "$file" "$openai" "$w/keys/first"
expect_read "the agent reads the binding that names it by process:sha256 and that key works" "-> 200" \
  as 1000 "$agent" "$hashed" "$openai" "$w/keys/hashed"
expect_denied "intruder: another script of the same interpreter (uid 1000)" as 1000 "$w/intruder/reader.py" "$file"
expect_denied "intruder: the agent's script run as 'python3 script' (uid 1000)" \
  as 1000 /usr/bin/python3 "$agent" "$file" "$openai" "$w/keys/x"
expect_denied "intruder: cat as root" sh -c 'exec cat "$0" >/dev/null' "$file"
expect_denied "intruder: a program with the agent's comm 'ai-agent' (uid 1000)" \
  sh -c 'exec setpriv --reuid 1000 --regid 1000 --clear-groups -- "$0" "$1" >/dev/null' "$w/intruder/ai-agent" "$file"
expect_denied "intruder: the agent's own script as root (uid is part of the identity)" \
  "$agent" "$file" "$openai" "$w/keys/x"
expect_denied "intruder: a copy of the agent's script (same sha256, another file) on the hashed binding" \
  as 1000 "$w/intruder/copy-of-agent" "$hashed" "$openai" "$w/keys/x"

# ---- root cannot move or remove the file or its directories ------------------------------------
expect_denied "root: renaming the credential file" mv "$file" "$bdir/moved.json"
expect_denied "root: unlinking the credential file" rm -f "$file"
expect_denied "root: hard-linking the credential file out of its directory" ln "$file" "$root/stolen"
expect_denied "root: renaming the binding directory" mv "$bdir" "$udir/moved"
expect_denied "root: removing the binding directory recursively" rm -rf "$bdir"
expect_denied "root: renaming the workload directory" mv "$udir" "$root/moved"
expect_denied "root: creating a file in the binding directory" touch "$bdir/planted.json"
expect_denied "root: a symlink in the credential root named like another workload" ln -s /tmp "$root/00000000-0000-5000-8000-000000000000"
echo '{"api_key":"sk-attacker"}' >"$w/fake.json"
expect_denied "root: bind mount over vault.json" "$attack" mount-bind "$w/fake.json" "$file"
expect_denied "root: tmpfs mounted over the binding directory" "$attack" mount-tmpfs "$bdir"
expect_denied "root: unmounting the credential file system" "$attack" umount "$root"
expect_denied "root: /proc/<credgated>/mem" /usr/bin/python3 -c 'open("/proc/%s/mem" % __import__("sys").argv[1], "rb")' "$daemon"
if [[ -f $file ]]; then pass "the credential file is still in place after the tamper attempts"
else failed "the credential file is gone after the tamper attempts"; fi
expect_read "after the tamper attempts the agent reads the real key and it works" "-> 200" \
  as 1000 "$agent" "$file" "$openai" "$w/keys/after-tamper"

# ---- credgated killed: the kernel keeps enforcing ----------------------------------------------
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
expect_denied "after kill -9 of credgated: the intruder script is still refused" \
  as 1000 "$w/intruder/reader.py" "$file"
expect_denied "after kill -9 of credgated: cat as root is still refused" sh -c 'exec cat "$0" >/dev/null' "$file"
expect_read "after kill -9 of credgated: the agent still reads and its key works" "-> 200" \
  as 1000 "$agent" "$file" "$openai" "$w/keys/after-kill"

# ---- restarted: adopts the pins and serves again -------------------------------------------------
"$credgated" --config "$w/credgate.yaml" 2>"$w/credgated2.log" &
daemon=$!
if poll 90 ctl status && poll 120 bound agent-key; then
  if grep -q 'Adopted BPF LSM enforcement' "$w/credgated2.log" && [[ $(ctl status --json | json_get daemon.enforcement.mode) == enforced ]]
  then pass "restarted credgated adopted the pinned programs, enforcing"
  else failed "restarted credgated: no adoption logged or not enforcing: $(grep -m2 enforce "$w/credgated2.log")"; fi
else
  failed "restarted credgated did not bring agent-key back to OK: $(ctl status 2>&1 | tail -n 3 | tr '\n' ' ')"
fi
expect_read "after the restart the agent reads its file and the key works" "-> 200" \
  as 1000 "$agent" "$file" "$openai" "$w/keys/restarted"
expect_denied "after the restart the intruder script is still refused" as 1000 "$w/intruder/reader.py" "$file"

# ---- SIGTERM revokes ---------------------------------------------------------------------------
code=$(key_code "$w/keys/restarted")
if [[ $code == 200 ]]; then pass "control: the agent's current key answers 200 before shutdown"
else failed "control: the agent's current key answers $code before shutdown"; fi
kill -TERM "$daemon"
if wait "$daemon"; then pass "credgated exits 0 on SIGTERM"; else failed "credgated exited $? on SIGTERM"; fi
code=$(key_code "$w/keys/restarted")
if [[ $code == 401 ]]; then pass "after SIGTERM the agent's key is revoked (/v1/models answers 401)"
else failed "after SIGTERM the agent's key answers $code, not 401"; fi
if [[ ! -e $file ]]; then pass "after SIGTERM the credential file is removed"
else failed "after SIGTERM the credential file is still there"; fi

kill "$devvault_pid" 2>/dev/null; wait "$devvault_pid" 2>/dev/null
if ((failures)); then
  for f in credgated.log credgated2.log; do echo "--- $f"; tail -n 15 "$w/$f"; done
fi
finish
