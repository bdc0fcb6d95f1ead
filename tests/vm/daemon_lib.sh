# SPDX-License-Identifier: Apache-2.0
# Shared steps of the vm scripts that run credgated against devvault (sourced after lib.sh). The script
# sets $w (its scratch directory, which holds every *.log) and $root (the file backend's root).
credgated=${CREDGATE_CREDGATED:?CREDGATE_CREDGATED is not set}
credgatectl=${CREDGATE_CREDGATECTL:?CREDGATE_CREDGATECTL is not set}
devvault=${CREDGATE_SOURCE_ROOT:?CREDGATE_SOURCE_ROOT is not set}/tools/devvault/devvault
# The guest's loopback is its own: fixed ports are free.
vault=http://127.0.0.1:8200
openai=http://127.0.0.1:8300
issuer=http://127.0.0.1:8443

ctl() { "$credgatectl" "$@" --socket "$w/control.sock"; }
json_get() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if isinstance(d,list) else d[k]
print(d)' "$1"; }
# die MESSAGE: fail the whole script, with the end of every log it wrote.
die() { echo "FAIL: $*"; for f in "$w"/*.log; do [[ -s $f ]] && { echo "--- ${f##*/}"; tail -n 25 "$f"; }; done; exit 1; }
# poll SECONDS CMD...: retry CMD every 0.3 s until it succeeds or SECONDS pass.
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do ((SECONDS < deadline)) || return 1; sleep 0.3; done
}
# spiffe_uuid WORKLOAD_ID: the directory name credgate gives spiffe://example.org/WORKLOAD_ID's files.
spiffe_uuid() {
  /usr/bin/python3 -c 'import sys, uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, sys.argv[1]))' "spiffe://example.org/$1"
}
bound() { grep -Eq '"state" *: *"OK"' <<<"$(ctl get binding "$1" -o json 2>/dev/null)"; }

# start_devvault ROOT_TOKEN PROJECT: devvault on the guest's loopback; sets $devvault_pid.
start_devvault() {
  bao_token=$1
  /usr/bin/python3 "$devvault" --listen 127.0.0.1:8200 --openai-listen 127.0.0.1:8300 --root-token "$1" \
    --openai-project "$2" --exit-with-parent >"$w/devvault.out" 2>"$w/devvault.log" &
  devvault_pid=$!
  poll 90 grep -q '^devvault ready' "$w/devvault.out" || die "devvault did not start"
}

bao() {  # bao METHOD PATH JSON: the HTTP call behind a `bao` command
  local code
  code=$(curl -s -o "$w/bao.out" -w '%{http_code}' -X "$1" -H "X-Vault-Token: $bao_token" \
    -H 'Content-Type: application/json' --data "$3" "$vault/v1/$2")
  [[ $code == 200 || $code == 204 ]] || die "$1 /v1/$2 answered $code: $(head -c 300 "$w/bao.out")"
}

# The seed's operator steps in devvault (after `start_devvault ROOT_TOKEN proj_seed`), which
# tests/vm/openai_agent.py's headers match. seed_openai [NAME PROJECT]: steps 1-4, the OpenAI engine of
# org-NAME (default org-seed), its role my-role for PROJECT (default proj_seed), and the ACL policy
# read-openai-apikeys that reads its keys.
seed_openai() {
  local name=${1:-seed} project=${2:-proj_seed}
  bao POST sys/mounts/openai '{"type":"openai"}'
  bao POST openai/config "{\"admin_api_key\":\"sk-admin-$name\",\"admin_api_key_id\":\"key_admin_$name\",\"organization_id\":\"org-$name\"}"
  bao POST openai/roles/my-role "{\"project_id\":\"$project\",\"service_account_name_template\":\"vault-{{.RoleName}}-{{.RandomSuffix}}\",\"ttl\":\"15m\",\"max_ttl\":\"1h\"}"
  bao PUT sys/policies/acl/read-openai-apikeys '{"policy":"path \"openai/creds/my-role\" {\n  capabilities = [\"read\"]\n}\n"}'
}
# seed_jwt ISSUER_URL: steps 5-6, the JWT auth method trusting the issuer's discovery document. The
# issuer must be serving: Vault fetches the document when the configuration is written.
seed_jwt() {
  bao POST sys/auth/jwt '{"type":"jwt"}'
  bao POST auth/jwt/config "{\"oidc_discovery_url\":\"$1\"}"
}
# seed_jwt_role ROLE WORKLOAD_ID [NUM_USES TOKEN_TTL]: step 7, a role for spiffe://example.org/WORKLOAD_ID
# that reads the keys, with tokens good for NUM_USES requests (default 2; 0: no limit) that live
# TOKEN_TTL when it is given.
seed_jwt_role() {
  local ttl=""
  [[ -n ${4:-} ]] && ttl=",\"token_ttl\":\"$4\""
  bao POST "auth/jwt/role/$1" "{\"role_type\":\"jwt\",\"user_claim\":\"sub\",\"bound_audiences\":\"vault\",\"bound_subject\":\"spiffe://example.org/$2\",\"token_policies\":\"read-openai-apikeys\",\"token_type\":\"service\",\"token_num_uses\":${3:-2}$ttl}"
}

# write_credgate_yaml NODE [BACKEND]: settings for a credgated whose delivery.backend is BACKEND
# (default file: files under $root; auto: credgate.ko when it is loaded).
write_credgate_yaml() {
  cat >"$w/credgate.yaml" <<YAML
trustDomain: example.org
node: $1
issuer:
  url: $issuer
  listen: 127.0.0.1:8443
delivery:
  backend: ${2:-file}
  fileRoot: $root
control:
  socket: $w/control.sock
policies:
  dir: $w/policies.d
YAML
}

# start_credgated NODE [BACKEND]: credgated with the settings of write_credgate_yaml, logging to
# $w/credgated.log; sets $daemon and returns once its control socket answers.
start_credgated() {
  write_credgate_yaml "$@"
  "$credgated" --config "$w/credgate.yaml" 2>"$w/credgated.log" &
  daemon=$!
  poll 90 ctl status || die "credgated did not answer on its control socket"
}
# require_enforcing: die unless credgated reports its kernel enforcement active.
require_enforcing() {
  [[ $(ctl status --json | json_get daemon.enforcement.mode) == enforced ]] || die "credgated is not enforcing"
}
# wait_bound BINDING [SECONDS]: die unless BINDING reaches OK within SECONDS (default 120).
wait_bound() {
  poll "${2:-120}" bound "$1" || die "binding $1 did not reach OK: $(ctl status 2>&1 | tail -n 4)"
}
# write_reader PATH: a script of the same interpreter as the agent's, that tries the agent's file.
write_reader() {
  cat >"$1" <<'EOF'
#!/usr/bin/python3
# Another script of the same interpreter, trying the agent's file.
import sys
try:
    print("read", len(open(sys.argv[1]).read()), "bytes")
except OSError as e:
    print(f"reader: {sys.argv[1]}: {e.strerror}")
    sys.exit(1)
EOF
}
