# SPDX-License-Identifier: Apache-2.0
# A devvault process on loopback and plain HTTP to it, with the seed scenario's operator steps: shared
# by devvault's own tests and the integration harness (tests/integration), so standard library only.
import http.client
import json
import os
import select
import subprocess
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEVVAULT = os.environ.get("DEVVAULT") or os.path.join(os.path.dirname(HERE), "devvault")
START_TIMEOUT_S = 10
ORG = "org-credgate-test"
PROJECT = "proj_default"
READ_POLICY = 'path "openai/creds/my-role" {\n  capabilities = ["read"]\n}\n'


def request(url, method="GET", body=None, headers=None, context=None, timeout=10):
    u = urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + (("?" + u.query) if u.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


class DevVault:
    """One devvault process on 127.0.0.1 port 0. `stderr`: where its log goes (kept in a pipe by
    default, for a test to read)."""

    def __init__(self, *args, flavor="openbao", root_token="root-token", stderr=subprocess.PIPE,
                 start_timeout=START_TIMEOUT_S):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", DEVVAULT, "--listen", "127.0.0.1:0", "--openai-listen", "127.0.0.1:0",
             "--flavor", flavor, "--root-token", root_token, *args],
            stdout=subprocess.PIPE, stderr=stderr, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        self.flavor = flavor
        self.root = root_token
        ready, _, _ = select.select([self.proc.stdout], [], [], start_timeout)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("devvault ready "):
            self.proc.kill()
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"devvault did not start: {line!r} {err}".rstrip())
        fields = dict(kv.split("=", 1) for kv in line.split()[2:])
        self.vault = fields["vault"]
        self.openai = fields["openai"]
        assert fields["root_token"] == root_token

    def stop(self):
        """SIGTERM, and SIGKILL after 5 s; devvault's exit status (-9 when it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return self.proc.returncode

    def call(self, method, path, body=None, token=None, headers=None, raw_body=None):
        h = dict(headers or {})
        if token:
            h["X-Vault-Token"] = token
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        return request(self.vault + "/v1/" + path, method, data, h)

    def root_call(self, method, path, body=None):
        status, _, out = self.call(method, path, body, token=self.root)
        if status not in (200, 204):
            raise AssertionError(f"{method} {path} -> {status} {out!r}")
        return json.loads(out) if out else None


def seed_role(subject, **over):
    """The seed scenario's JWT role for the workload `subject`, with `over` changed."""
    role = {"user_claim": "sub", "bound_audiences": "vault", "bound_subject": subject,
            "token_policies": "read-openai-apikeys", "token_type": "service", "role_type": "jwt"}
    role.update(over)
    return role


def configure_seed(dv, jwt_config, role, ttl="15m", auth_path="jwt", openai_path="openai"):
    """The seed scenario's operator steps (`bao` commands) over the HTTP API with the root token;
    `role`: the JWT role (see seed_role)."""
    dv.root_call("POST", f"sys/mounts/{openai_path}", {"type": "openai"})
    dv.root_call("POST", f"{openai_path}/config", {"admin_api_key": "sk-admin-test", "admin_api_key_id": "key_admin",
                                                   "organization_id": ORG})
    dv.root_call("POST", f"{openai_path}/roles/my-role",
                 {"project_id": PROJECT, "service_account_name_template": "vault-{{.RoleName}}-{{.RandomSuffix}}",
                  "ttl": ttl, "max_ttl": "1h"})
    dv.root_call("PUT", "sys/policies/acl/read-openai-apikeys",
                 {"policy": READ_POLICY.replace("openai/", openai_path + "/")})
    dv.root_call("POST", f"sys/auth/{auth_path}", {"type": "jwt"})
    dv.root_call("POST", f"auth/{auth_path}/config", jwt_config)
    dv.root_call("POST", f"auth/{auth_path}/role/openai-apikeys", role)
