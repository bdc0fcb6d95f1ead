# SPDX-License-Identifier: Apache-2.0
# Integration harness: real devvault and real credgated processes on loopback in temp dirs, the
# seed scenario's operator steps over devvault's HTTP API, and a client for the control socket.
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_ROOT = os.environ.get("CREDGATE_SOURCE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_ROOT = os.environ.get("CREDGATE_BUILD_ROOT") or os.path.join(SOURCE_ROOT, "build")
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tools", "devvault", "tests"))

import devvault_client  # noqa: E402
from devvault_client import DEVVAULT, ORG, PROJECT, request, seed_role  # noqa: E402

CREDGATED = os.path.join(BUILD_ROOT, "src", "daemon", "credgated")
CREDGATECTL = os.path.join(BUILD_ROOT, "src", "cli", "credgatectl")
TRUST_DOMAIN = "example.org"
SPIFFE_ID = f"spiffe://{TRUST_DOMAIN}/ai-agent"
START_TIMEOUT_S = 15

NOTICE_PRINTED = False

# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print when a sanitized build
# (tools/scripts/test-san) finds something: any such line in a process's output fails the test.
SANITIZER_REPORT = re.compile(r"^(?:==\d+==ERROR: \w+Sanitizer|SUMMARY: \w+Sanitizer|\S+:\d+:\d+: runtime error: )", re.M)


def sanitizer_report(text):
    """The sanitizer report in `text` (from its first line on), or None."""
    m = SANITIZER_REPORT.search(text or "")
    return text[m.start():] if m else None


def skip_or_fail(reason):
    """Exit 77 (meson: SKIP) unless every test is required to run."""
    if os.environ.get("CREDGATE_REQUIRE_ALL_TESTS") == "1":
        print(f"FAIL (CREDGATE_REQUIRE_ALL_TESTS=1): {reason}", file=sys.stderr)
        sys.exit(1)
    print(f"SKIP: {reason}", file=sys.stderr)
    sys.exit(77)


def preflight():
    global NOTICE_PRINTED
    for path in (CREDGATED, DEVVAULT):
        if not os.access(path, os.X_OK):
            skip_or_fail(f"{path} is not built or not executable")
    try:
        import jwt  # noqa: F401  (devvault's JWT auth needs it)
        import cryptography  # noqa: F401
    except ImportError as e:
        skip_or_fail(f"devvault needs python3-jwt and python3-cryptography: {e}")
    if not NOTICE_PRINTED:
        print("NOTE: credgated runs with --insecure-no-enforcement in these tests: this host's kernel cannot run "
              "BPF LSM programs, so who may read a credential file is not enforced here (the vm suite's "
              "credgated-demo test runs credgated with enforcement inside the VM).", file=sys.stderr, flush=True)
        NOTICE_PRINTED = True


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class DevVault(devvault_client.DevVault):
    """One devvault process on 127.0.0.1 port 0 whose OpenAI organisation has the seed's project."""

    def __init__(self, root_token="root-token", flavor="openbao"):
        super().__init__("--openai-project", PROJECT, flavor=flavor, root_token=root_token,
                         stderr=subprocess.DEVNULL, start_timeout=START_TIMEOUT_S)

    def lookup_accessor(self, accessor):
        """devvault's answer to auth/token/lookup-accessor: (status, body)."""
        status, _, body = self.call("POST", "auth/token/lookup-accessor", {"accessor": accessor}, token=self.root)
        return status, body.decode()

    def models(self, key):
        status, _, body = request(self.openai + "/v1/models", headers={
            "Authorization": f"Bearer {key}", "OpenAI-Organization": ORG, "OpenAI-Project": PROJECT})
        return status, body

    def faults(self, **f):
        if f:
            self.root_call("POST", "sys/devvault/faults", f)
        else:
            self.root_call("DELETE", "sys/devvault/faults")

    def stats(self):
        return self.root_call("GET", "sys/devvault/stats")["data"]

    def reset_stats(self):
        self.root_call("DELETE", "sys/devvault/stats")

    def count(self, path, method=None):
        per = self.stats().get("requests", {}).get(path, {})
        return sum(per.values()) if method is None else per.get(method, 0)


def seed_role_for(subject, **over):
    """The seed scenario's JWT role for `subject` as these tests use it: unlimited uses, a 2h token."""
    return seed_role(subject, **{"token_num_uses": 0, "token_ttl": "2h", **over})


def configure_seed(dv, jwt_config, ttl="15m", role_overrides=None):
    """The seed scenario's `bao` steps, over the HTTP API with the root token."""
    devvault_client.configure_seed(dv, jwt_config, seed_role_for(SPIFFE_ID, **(role_overrides or {})), ttl=ttl)


def seed_policy(vault_addr, name="vault-openai-apikeys-binding", refresh=None, workload="ai-agent",
                extra_docs=""):
    """The seed example's objects, delivered by the file backend (no credgate.ko on this host)."""
    refresh_yaml = ""
    if refresh:
        refresh_yaml = "  refresh:\n" + "".join(f"    {k}: {v}\n" for k, v in refresh.items())
    return f"""apiVersion: credgate.io/v1alpha1
kind: Service
metadata:
  name: openai-api
spec:
  addresses:
    - address: api.openai.com
      port: 443
  labels:
    app: openai-api
  external: true
---
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata:
  name: vault-openai-apikeys
spec:
  vault:
    address: {vault_addr}
    jwtAuthMethodPath: jwt
    role: openai-apikeys
    path: openai/creds/my-role
    audience: [vault]
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: ai-agent
spec:
  workloadID: {workload}
  selectors:
    - process:path: /usr/bin/python3
      process:uid: 0
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata:
  name: {name}
spec:
  workloadID: {workload}
  credentialSource: vault-openai-apikeys
  propagation:
    file: {{}}
{refresh_yaml}{extra_docs}"""


class Credgated:
    """One credgated process with its own config, policy dir, delivery root and control socket."""

    def __init__(self, workdir, policy_yaml, issuer_port=None, issuer_extra="", revoke_on_shutdown=True):
        self.metrics_port = free_port()
        self.dir = workdir
        self.issuer_port = issuer_port or free_port()
        self.issuer = f"http://127.0.0.1:{self.issuer_port}"
        self.policies = os.path.join(workdir, "policies.d")
        self.root = os.path.join(workdir, "credentials")
        self.socket = os.path.join(workdir, "run", "control.sock")
        self.config = os.path.join(workdir, "credgate.yaml")
        self.log_path = os.path.join(workdir, "credgated.log")
        os.makedirs(self.policies, exist_ok=True)
        if policy_yaml:
            self.write_policy(policy_yaml)
        with open(self.config, "w") as f:
            f.write(f"""trustDomain: {TRUST_DOMAIN}
node: test-node
issuer:
  url: {self.issuer}
  listen: 127.0.0.1:{self.issuer_port}
{issuer_extra}delivery:
  backend: file
  fileRoot: {self.root}
control:
  socket: {self.socket}
metrics:
  listen: 127.0.0.1:{self.metrics_port}
policies:
  dir: {self.policies}
revokeOnShutdown: {"true" if revoke_on_shutdown else "false"}
""")
        self.proc = None

    def write_policy(self, yaml_text, name="seed.yaml"):
        path = os.path.join(self.policies, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(yaml_text)
        os.rename(tmp, path)

    def start(self, insecure=True, wait=True, output=None, env=None):
        """`output`: where credgated's stdout and stderr go instead of its log file (e.g. a journal
        stream); `env`: its environment instead of this one."""
        args = [CREDGATED, "--config", self.config]
        if insecure:
            args.append("--insecure-no-enforcement")
        self.log = open(self.log_path, "ab")
        out = output if output is not None else self.log
        self.proc = subprocess.Popen(args, stdout=out, stderr=out, env=env)
        if wait:
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"credgated exited with {self.proc.returncode}:\n{self.log_text()}")
                try:
                    self.api("GET", "/v1/status")
                    return self
                except OSError:
                    time.sleep(0.05)
            raise RuntimeError(f"credgated did not open its control socket:\n{self.log_text()}")
        return self

    def log_text(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def api(self, method, path):
        conn = UnixHTTPConnection(self.socket)
        try:
            conn.request(method, path)
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def binding(self, name="vault-openai-apikeys-binding"):
        status, doc = self.api("GET", f"/v1/bindings/{name}")
        if status != 200:
            raise AssertionError(f"GET /v1/bindings/{name} -> {status} {doc}")
        return doc

    def file_path(self, name="vault-openai-apikeys-binding"):
        return self.binding(name)["status"]["file"]["files"][0]["path"]

    def ctl(self, *args):
        r = subprocess.run([CREDGATECTL, *args, "--socket", self.socket], capture_output=True, text=True, timeout=30)
        report = sanitizer_report(r.stderr)
        if report:
            raise AssertionError(f"credgatectl {' '.join(args)}: sanitizer report:\n{report}")
        return r

    def metrics(self):
        status, _, body = request(f"http://127.0.0.1:{self.metrics_port}/metrics")
        if status != 200:
            raise AssertionError(f"GET /metrics -> {status}")
        return body.decode()

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("credgated did not stop within {timeout}s after SIGTERM")
        self.log.close()
        return self.proc.returncode

    def cleanup(self):
        # credgated mounts a private tmpfs at the delivery root when it runs as root.
        if os.path.ismount(self.root):
            subprocess.run(["umount", self.root], check=False)


class IntegrationCase(unittest.TestCase):
    """One devvault per test; helpers to start credgated in a fresh temp dir."""

    def setUp(self):
        preflight()
        self.tmp = tempfile.mkdtemp(prefix="credgate-it-")
        self.dv = DevVault()
        self.daemons = []

    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        failed = bool(result and any(t is self for t, _ in result.errors + result.failures))
        reports = []
        for d in self.daemons:
            try:
                d.stop()
            except Exception:
                pass
            report = sanitizer_report(d.log_text())
            if report:
                reports.append(f"credgated ({d.log_path}):\n{report}")
            if failed or report:
                print(f"---- credgated log ({d.log_path}) ----\n{d.log_text()}", file=sys.stderr)
            d.cleanup()
        self.dv.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail("sanitizer report in credgated's log:\n" + "\n".join(reports))

    def credgated(self, policy_yaml, **kw):
        d = Credgated(os.path.join(self.tmp, f"node{len(self.daemons)}"), policy_yaml, **kw)
        self.daemons.append(d)
        return d

    def seed_node(self, jwt="discovery", ttl="15m", role_overrides=None, refresh=None, insecure=True,
                  issuer_extra="", output=None, env=None, **policy_kw):
        """The seed scenario in the operator's order: the node (and so its issuer) comes up first,
        Vault is configured to trust it, then the binding is installed with a reload."""
        node = self.credgated("", issuer_extra=issuer_extra)
        node.start(insecure=insecure, output=output, env=env)
        _, iss = node.api("GET", "/v1/issuer")
        if jwt == "discovery":
            cfg = {"oidc_discovery_url": node.issuer}
        elif jwt == "jwks":
            cfg = {"jwks_url": iss["jwksURL"], "bound_issuer": node.issuer}
        elif jwt == "pubkeys":
            cfg = {"jwt_validation_pubkeys": [iss["publicKeyPEM"]], "bound_issuer": node.issuer}
        else:
            raise ValueError(jwt)
        configure_seed(self.dv, cfg, ttl=ttl, role_overrides=role_overrides)
        node.write_policy(seed_policy(self.dv.vault, refresh=refresh, **policy_kw))
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return node

    def status_row(self, node, name="vault-openai-apikeys-binding"):
        """The binding's row in `credgatectl status`."""
        r = node.ctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [line for line in r.stdout.splitlines() if line.startswith(name)]
        self.assertEqual(len(rows), 1, r.stdout)
        return rows[0]

    def wait_until(self, predicate, timeout=10.0, what="condition", interval=0.1):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        self.fail(f"timed out after {timeout}s waiting for {what}")

    def accessor_of(self, node, lease_id):
        """The token accessor credgated logged when it delivered the secret of `lease_id`."""
        m = re.search(re.escape(f"lease '{lease_id}',") + r"[^\n]*token accessor '([^']+)'", node.log_text())
        self.assertIsNotNone(m, f"no delivery line for lease {lease_id}:\n{node.log_text()}")
        return m.group(1)

    def read_secret(self, daemon, name="vault-openai-apikeys-binding"):
        with open(daemon.file_path(name)) as f:
            return json.load(f)

    def wait_state(self, daemon, state, name="vault-openai-apikeys-binding", timeout=15.0):
        return self.wait_until(lambda: daemon.binding(name)["status"]["state"] == state and daemon.binding(name),
                               timeout, f"binding {name} to reach {state}")
