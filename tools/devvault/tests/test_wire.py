# SPDX-License-Identifier: Apache-2.0
# The HTTP envelope (key order, escaping, headers, 204), routing errors, KV v2, seal, standby, health,
# quotas, fault injection, statistics, keep-alive and a clean exit on SIGTERM.
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import unittest
from urllib.parse import urlsplit

from devvault_harness import DEVVAULT, DevVault, DevVaultTestCase, err, request

ENVELOPE = ["request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"]


def keys_in_order(body):
    pairs = json.loads(body, object_pairs_hook=lambda p: p)
    return [k for k, _ in pairs]


class VaultEnvelopeTest(DevVaultTestCase):
    flavor = "vault"

    def test_envelope_order_mount_type_and_go_escaping(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/kv", {"type": "kv", "options": {"version": "2"}})
        status, headers, body = dv.call("POST", "kv/data/app", {"data": {"html": "<a href='x'>&</a>"}}, token=dv.root)
        self.assertEqual(status, 200, body)
        self.assertEqual(keys_in_order(body), ENVELOPE + ["mount_type"])
        status, headers, body = dv.call("GET", "kv/data/app", token=dv.root)
        self.assertEqual(status, 200)
        self.assertEqual((headers["cache-control"], headers["content-type"]), ("no-store", "application/json"))
        self.assertTrue(body.endswith(b',"mount_type":"kv"}\n'), body)
        self.assertIn(b'"html":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"', body)
        self.assertEqual(int(headers["content-length"]), len(body))
        doc = json.loads(body)
        self.assertEqual(doc["data"]["data"], {"html": "<a href='x'>&</a>"})
        self.assertEqual(list(doc["data"]["metadata"]), ["created_time", "custom_metadata", "deletion_time",
                                                         "destroyed", "version"])


class EnvelopeAndRoutingTest(DevVaultTestCase):
    def test_openbao_envelope_has_no_mount_type(self):
        status, _, body = self.dv.call("GET", "auth/token/lookup-self", token=self.dv.root)
        self.assertEqual(status, 200)
        self.assertEqual(keys_in_order(body), ENVELOPE)
        self.assertTrue(body.endswith(b"}\n"))

    def test_writes_answer_204_with_no_body(self):
        status, headers, body = self.dv.call("PUT", "sys/policies/acl/p1", {"policy": 'path "a/*" { capabilities = ["read"] }'},
                                             token=self.dv.root)
        self.assertEqual((status, body, headers["cache-control"]), (204, b"", "no-store"))
        self.assertNotIn("content-type", headers)

    def test_routing_errors(self):
        dv = self.dv
        self.assertBody(dv.call("GET", "nothing/here", token=dv.root), 404,
                        err('no handler for route "nothing/here". route entry not found.'))
        self.assertBody(dv.call("GET", "secret/data/missing", token=dv.root), 404, err())
        self.assertEqual(request(dv.vault + "/v2/sys/health")[::2], (404, err()))
        self.assertBody(dv.call("POST", "sys/mounts/x", raw_body=b"{not json", token=dv.root), 400,
                        err("failed to decode JSON input: invalid character 'n' looking for beginning of object key "
                            "string"))
        self.assertBody(dv.call("POST", "sys/mounts/x", raw_body=b'{"type":', token=dv.root), 400,
                        err("failed to decode JSON input: unexpected EOF"))
        self.assertBody(dv.call("POST", "sys/mounts/x", raw_body=b'["openai"]', token=dv.root), 400,
                        err("failed to decode JSON input: json: cannot unmarshal array into Go value of type "
                            "map[string]interface {}"))
        status, headers, body = dv.call("GET", "sys/health", headers={"X-Vault-Namespace": "ns1"})
        self.assertEqual(headers.get("x-vault-namespace"), "ns1")

    def test_kv_v2_versions_and_soft_delete(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/kv2", {"type": "kv-v2"})
        dv.root_call("POST", "kv2/data/a/b", {"data": {"v": "1"}})
        w = dv.root_call("POST", "kv2/data/a/b", {"data": {"v": "2"}})
        self.assertEqual(w["data"]["version"], 2)
        self.assertEqual(dv.root_call("GET", "kv2/data/a/b")["data"]["data"], {"v": "2"})
        status, _, body = dv.call("GET", "kv2/data/a/b?version=1", token=dv.root)
        self.assertEqual(json.loads(body)["data"]["data"], {"v": "1"})
        self.assertBody(dv.call("POST", "kv2/data/a/b", {"data": {"v": "3"}, "options": {"cas": 1}}, token=dv.root),
                        400, err("check-and-set parameter did not match the current version"))
        self.assertBody(dv.call("DELETE", "kv2/data/a/b", token=dv.root), 204, b"")
        status, _, body = dv.call("GET", "kv2/data/a/b", token=dv.root)
        self.assertEqual(status, 404)
        doc = json.loads(body)
        self.assertIsNone(doc["data"]["data"])
        self.assertNotEqual(doc["data"]["metadata"]["deletion_time"], "")
        status, _, body = dv.call("LIST", "kv2/metadata/a", token=dv.root)
        self.assertEqual(json.loads(body)["data"]["keys"], ["b"])
        status, _, body = dv.call("GET", "kv2/metadata/?list=true", token=dv.root)
        self.assertEqual(json.loads(body)["data"]["keys"], ["a/"])

    def test_policies_with_globs(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/kvg", {"type": "kv", "options": {"version": "2"}})
        dv.root_call("POST", "kvg/data/team/a/app", {"data": {"x": "1"}})
        dv.root_call("POST", "kvg/data/team/a/other", {"data": {"x": "1"}})
        dv.root_call("PUT", "sys/policies/acl/globs", {"policy": """
            # comment
            path "kvg/data/team/+/app" { capabilities = ["read"] }
            path "kvg/data/team/a/oth*" { capabilities = ["deny"] }
            path "kvg/data/*" { capabilities = ["read", "list"] }
        """})
        token = dv.root_call("POST", "auth/token/create", {"policies": ["globs"]})["auth"]["client_token"]
        self.assertEqual(dv.call("GET", "kvg/data/team/a/app", token=token)[0], 200)
        self.assertBody(dv.call("GET", "kvg/data/team/a/other", token=token), 403,
                        err("1 error occurred:\n\t* permission denied\n\n"))
        self.assertBody(dv.call("POST", "kvg/data/team/a/app", {"data": {}}, token=token), 403,
                        err("1 error occurred:\n\t* permission denied\n\n"))
        self.assertBody(dv.call("PUT", "sys/policies/acl/bad", {"policy": ""}, token=dv.root), 400,
                        err("'policy' parameter not supplied or empty"))

    def test_stats_count_requests_per_path_and_method(self):
        dv = self.dv
        dv.root_call("DELETE", "sys/devvault/stats")
        for _ in range(3):
            dv.call("GET", "sys/health")
        dv.call("HEAD", "sys/health")
        stats = dv.root_call("GET", "sys/devvault/stats")["data"]
        self.assertEqual(stats["requests"]["sys/health"], {"GET": 3, "HEAD": 1})
        self.assertEqual(set(stats), {"requests", "requests_per_second", "openai_requests", "live_tokens",
                                      "live_leases", "live_openai_keys"})
        # Every Vault request above (not the stats calls themselves) in the second it was served.
        per_second = stats["requests_per_second"]
        self.assertEqual(sum(per_second.values()), 4, per_second)
        self.assertTrue(all(k.isdigit() for k in per_second), per_second)
        self.assertBody(dv.call("GET", "sys/devvault/stats", token="hvs.nope"), 403, err("permission denied"))

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        u = urlsplit(self.dv.vault)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        self.addCleanup(conn.close)
        for _ in range(3):
            conn.request("GET", "/v1/auth/token/lookup-self", headers={"X-Vault-Token": self.dv.root})
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(len(r.read()), int(r.getheader("Content-Length")))
            conn.request("PUT", "/v1/sys/policies/acl/k", body=b'{"policy":"path \\"x\\" {capabilities=[\\"read\\"]}"}',
                         headers={"X-Vault-Token": self.dv.root})
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (204, b""))


class ModesTest(DevVaultTestCase):
    """Seal, standby, quotas and faults change global state: each test restores it."""
    extra_args = ("--active-address", "https://active.example:8200")

    def tearDown(self):
        self.dv.call("DELETE", "sys/devvault/faults", token=self.dv.root)
        self.dv.call("PUT", "sys/unseal", {"key": "dev"})

    def test_health_codes_and_overrides(self):
        dv = self.dv
        status, _, body = dv.call("GET", "sys/health")
        self.assertEqual(status, 200)
        self.assertEqual(keys_in_order(body), ["initialized", "sealed", "standby", "replication_performance_mode",
                                               "replication_dr_mode", "server_time_utc", "version", "cluster_name",
                                               "cluster_id"])
        self.assertEqual(dv.call("GET", "sys/health?activecode=299")[0], 299)
        self.assertEqual(dv.call("GET", "sys/health?activecode=abc")[0], 400)
        status, _, body = dv.call("HEAD", "sys/health")
        self.assertEqual((status, body), (200, b""))

    def test_sealed_answers_503_everywhere(self):
        dv = self.dv
        self.assertBody(dv.call("PUT", "sys/seal", token=dv.root), 204, b"")
        for method, path in (("GET", "auth/token/lookup-self"), ("POST", "auth/jwt/login"), ("GET", "secret/data/x")):
            self.assertBody(dv.call(method, path, token=dv.root), 503, err("Vault is sealed"))
        self.assertEqual(dv.call("GET", "sys/health")[0], 503)
        self.assertEqual(dv.call("GET", "sys/health?sealedcode=200")[0], 200)
        self.assertTrue(json.loads(dv.call("GET", "sys/seal-status")[2])["sealed"])
        self.assertBody(dv.call("PUT", "sys/unseal", {}), 400,
                        err("'key' must be specified in request body as JSON, or 'reset' set to true"))
        status, _, body = dv.call("PUT", "sys/unseal", {"key": "dev"})
        self.assertFalse(json.loads(body)["sealed"])
        self.assertEqual(dv.call("GET", "auth/token/lookup-self", token=dv.root)[0], 200)

    def test_standby_redirects_with_307(self):
        dv = self.dv
        dv.root_call("POST", "sys/devvault/faults", {"standby": True})
        status, headers, _ = dv.call("GET", "openai/creds/my-role?ttl=10m", token=dv.root)
        self.assertEqual((status, headers["location"]), (307, "https://active.example:8200/v1/openai/creds/my-role?ttl=10m"))
        self.assertEqual(dv.call("GET", "sys/health")[0], 429)
        self.assertEqual(dv.call("GET", "sys/health?standbyok=true")[0], 200)
        self.assertEqual(dv.call("GET", "sys/health?standbycode=200")[0], 200)

    def test_rate_limit_quota(self):
        dv = self.dv
        dv.root_call("POST", "sys/devvault/faults", {"rate_limit": {"rate": 2, "interval": "10s",
                                                                    "paths": ["auth/token/*"]}})
        codes = [dv.call("GET", "auth/token/lookup-self", token=dv.root) for _ in range(3)]
        self.assertEqual([c[0] for c in codes], [200, 200, 429])
        self.assertEqual(codes[2][2], err('request path "auth/token/lookup-self": rate limit quota exceeded'))
        self.assertGreaterEqual(int(codes[2][1]["retry-after"]), 1)
        self.assertEqual(dv.call("GET", "sys/health")[0], 200)

    def test_injected_failures_latency_and_path_globs(self):
        dv = self.dv
        dv.root_call("POST", "sys/devvault/faults", {"fail_rate": 1.0, "fail_count": 2, "fail_status": 503,
                                                     "paths": ["auth/token/*"], "latency_ms": 150})
        self.assertEqual(dv.call("GET", "sys/health")[0], 200)
        t0 = time.monotonic()
        self.assertEqual(dv.call("GET", "auth/token/lookup-self", token=dv.root)[0], 503)
        self.assertGreaterEqual(time.monotonic() - t0, 0.15)
        self.assertBody(dv.call("GET", "auth/token/lookup-self", token=dv.root), 503,
                        err("1 error occurred:\n\t* injected failure\n\n"))
        self.assertEqual(dv.call("GET", "auth/token/lookup-self", token=dv.root)[0], 200)
        faults = dv.root_call("GET", "sys/devvault/faults")["data"]
        self.assertEqual(faults["fail_count"], 0)

    def test_dropped_truncated_and_oversized_responses(self):
        dv = self.dv
        dv.root_call("POST", "sys/devvault/faults", {"drop_connections": True, "paths": ["auth/token/lookup-self"]})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            dv.call("GET", "auth/token/lookup-self", token=dv.root)
        dv.root_call("POST", "sys/devvault/faults", {"drop_connections": False, "truncate_bodies": True})
        with self.assertRaises(http.client.IncompleteRead):
            dv.call("GET", "auth/token/lookup-self", token=dv.root)
        dv.root_call("POST", "sys/devvault/faults", {"truncate_bodies": False, "oversized_bodies": 3 << 20})
        status, headers, body = dv.call("GET", "auth/token/lookup-self", token=dv.root)
        self.assertEqual((status, len(body), int(headers["content-length"])), (200, 3 << 20, 3 << 20))
        json.loads(body)
        dv.root_call("POST", "sys/devvault/faults", {"oversized_bodies": 0, "reset_mid_body": True})
        with self.assertRaises((http.client.IncompleteRead, ConnectionResetError)):
            dv.call("GET", "auth/token/lookup-self", token=dv.root)
        dv.root_call("POST", "sys/devvault/faults", {"reset_mid_body": False, "garbage_bodies": '{"data": '})
        status, headers, body = dv.call("GET", "auth/token/lookup-self", token=dv.root)
        self.assertEqual((status, body, headers["content-length"]), (200, b'{"data": ', "9"))
        dv.root_call("POST", "sys/devvault/faults", {"garbage_bodies": None, "redirect_loop": True})
        status, headers, _ = dv.call("GET", "auth/token/lookup-self?x=1", token=dv.root)
        self.assertEqual((status, headers["location"]), (307, "/v1/auth/token/lookup-self?x=1"))
        dv.root_call("DELETE", "sys/devvault/faults")
        self.assertEqual(len(dv.call("GET", "auth/token/lookup-self", token=dv.root)[2]) < 4096, True)


class LifecycleTest(unittest.TestCase):
    def test_sigint_and_sigterm_exit_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            dv = DevVault()
            dv.proc.send_signal(sig)
            self.assertEqual(dv.proc.wait(5), 0)
            dv.proc.stdout.close()
            dv.proc.stderr.close()

    def test_request_log_names_method_path_and_status_but_no_secrets(self):
        dv = DevVault("--log-requests")
        dv.call("GET", "auth/token/lookup-self?token=hvs.secret-in-query", token="hvs.secret-in-header")
        dv.proc.terminate()
        self.assertEqual(dv.proc.wait(5), 0)
        log = dv.proc.stderr.read().decode()
        dv.proc.stdout.close()
        dv.proc.stderr.close()
        self.assertIn("devvault: GET /v1/auth/token/lookup-self 403\n", log)
        self.assertNotIn("secret-in", log)

    def test_exit_with_parent_stops_the_server_when_its_parent_dies(self):
        # An intermediate process starts devvault, prints its pid and ready line, then exits.
        script = ("import subprocess, sys; p = subprocess.Popen(['/usr/bin/python3', sys.argv[1], '--listen', "
                  "'127.0.0.1:0', '--exit-with-parent'], stdout=subprocess.PIPE); print(p.pid); "
                  "print(p.stdout.readline().decode().strip(), flush=True)")
        r = subprocess.run([sys.executable, "-c", script, DEVVAULT], capture_output=True, timeout=20)
        pid_line, ready = r.stdout.decode().splitlines()[:2]
        self.assertTrue(ready.startswith("devvault ready "), r.stdout)
        pid = int(pid_line)

        def gone():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split()[2] == "Z"

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not gone():
            time.sleep(0.05)
        self.assertTrue(gone(), "devvault outlived its parent")

    def test_bad_flags_are_refused(self):
        r = subprocess.run(["/usr/bin/python3", DEVVAULT, "--listen", "nope"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--listen: expected HOST:PORT", r.stderr)


if __name__ == "__main__":
    unittest.main()
