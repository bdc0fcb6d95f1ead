# SPDX-License-Identifier: Apache-2.0
# Shared steps of the vm scripts that run credgated against devvault (sourced after lib.sh; they set
# $w, $root, $vault, $issuer, $devvault and define poll and die).

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
