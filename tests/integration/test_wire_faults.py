#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Vault answers that break on the wire: a connection reset in the middle of a body, a truncated body,
# invalid and oversized JSON, a redirect loop, and TLS certificates that are expired, for another host
# or from an unknown CA. For each: the binding retries with backoff (a bounded number of requests to
# Vault), `credgatectl status` names the failure, nothing half-read is delivered, and clearing the fault
# recovers.
import datetime
import ipaddress
import os
import ssl
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness import DevVault, IntegrationCase, configure_seed, seed_policy

BINDING = "vault-openai-apikeys-binding"
READ = "openai/creds/*"
# Backoff 1 s, 2 s, 4 s (less up to 25 % jitter): at most 4 attempts in a 6 s window.
WINDOW_S = 6
MAX_ATTEMPTS = 4


class WireFaults(IntegrationCase):
    def fault_on_read(self, expect_class, expect_text, requests_per_attempt=1, **fault):
        """The seed binding with `fault` on every secret read: the first read fails, the binding retries
        with backoff, status names the failure; then the fault is cleared and the secret arrives."""
        self.dv.faults(paths=[READ], **fault)
        node = self.seed_node()
        err = self.wait_until(lambda: node.binding()["status"].get("lastError"), 15, "a last error")
        self.assertEqual(err["class"], expect_class, err)
        self.assertEqual(err["operation"], "read", err)
        self.assertIn(expect_text, err["vaultMessage"] + " " + err["explanation"], err)
        doc = node.binding()
        self.assertEqual(doc["status"]["state"], "RETRYING", doc["status"])
        self.assertEqual(doc["status"]["file"]["files"], [], "nothing is delivered from a broken answer")
        row = self.status_row(node)
        self.assertIn("RETRYING", row)
        self.assertIn(expect_text, row)
        self.dv.reset_stats()
        time.sleep(WINDOW_S)
        reads = self.dv.count("openai/creds/my-role")
        logins = self.dv.count("auth/jwt/login")
        self.assertGreaterEqual(reads, 1)
        self.assertLessEqual(reads, MAX_ATTEMPTS * requests_per_attempt, f"{reads} reads in {WINDOW_S} s")
        self.assertLessEqual(logins, MAX_ATTEMPTS, f"{logins} logins in {WINDOW_S} s")
        self.dv.faults()
        self.wait_state(node, "OK", timeout=20)
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)
        return node

    def test_connection_reset_in_the_middle_of_a_body(self):
        self.fault_on_read("transport", "Connection reset by peer", reset_mid_body=True)

    def test_truncated_body(self):
        self.fault_on_read("protocol", "cut short: the connection closed before the whole body arrived",
                           truncate_bodies=True)

    def test_invalid_json(self):
        self.fault_on_read("protocol", "response is not JSON", garbage_bodies='{"data": {"api_key": "sk-')

    def test_json_of_the_wrong_shape(self):
        self.fault_on_read("protocol", "field 'data' is not an object", garbage_bodies='{"data": ["not", "an", "object"]}')

    def test_oversized_json(self):
        self.fault_on_read("protocol", "body limit", oversized_bodies=2 << 20)

    def test_redirect_loop(self):
        # Each attempt follows at most 3 redirects: 4 requests.
        self.fault_on_read("protocol", "too many redirects", requests_per_attempt=4, redirect_loop=True)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_cn, issuer_cn, issuer_key, key, sans, not_before, not_after, ca=False):
    b = (x509.CertificateBuilder().subject_name(_name(subject_cn)).issuer_name(_name(issuer_cn))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class TlsDevVault(DevVault):
    """devvault serving the Vault API over HTTPS with the given certificate. The test's own setup calls
    do not verify it (what is under test is credgated's verification)."""

    def __init__(self, cert_file, key_file):
        super(DevVault, self).__init__("--openai-project", "proj_default", "--tls-cert", cert_file,
                                       "--tls-key", key_file, flavor="openbao", root_token="root-token",
                                       start_timeout=15)
        self.context = ssl._create_unverified_context()

    def call(self, method, path, body=None, token=None, headers=None, raw_body=None):
        import json
        from devvault_client import request
        h = dict(headers or {})
        if token:
            h["X-Vault-Token"] = token
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        return request(self.vault + "/v1/" + path, method, data, h, context=self.context)


class TlsFaults(IntegrationCase):
    """credgated against devvault over HTTPS, the CredentialSource's caFile naming a test CA."""

    def setUp(self):
        super().setUp()
        self.dv.stop()  # this class's devvault speaks TLS; started per test with its certificate
        now = datetime.datetime.now(datetime.timezone.utc)
        self.now = now
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _cert("credgate test CA", "credgate test CA", self.ca_key, self.ca_key, None,
                        now - datetime.timedelta(days=1), now + datetime.timedelta(days=30), ca=True)
        self.ca_file = os.path.join(self.tmp, "ca.pem")
        with open(self.ca_file, "wb") as f:
            f.write(_pem(self.ca))

    def serve(self, sans, not_before=None, not_after=None, signer=None):
        now = self.now
        key = ec.generate_private_key(ec.SECP256R1())
        issuer_key, issuer_cn = signer or (self.ca_key, "credgate test CA")
        cert = _cert("vault", issuer_cn, issuer_key, key, sans, not_before or now - datetime.timedelta(days=1),
                     not_after or now + datetime.timedelta(days=30))
        cert_file = os.path.join(self.tmp, "vault.pem")
        key_file = os.path.join(self.tmp, "vault-key.pem")
        with open(cert_file, "wb") as f:
            f.write(_pem(cert))
        with open(key_file, "wb") as f:
            f.write(_pem(key))
        self.dv = TlsDevVault(cert_file, key_file)
        self.assertTrue(self.dv.vault.startswith("https://127.0.0.1:"), self.dv.vault)

    def node(self):
        node = self.credgated("")
        node.start()
        configure_seed(self.dv, {"oidc_discovery_url": node.issuer})
        policy = seed_policy(self.dv.vault).replace(
            f"    address: {self.dv.vault}\n", f"    address: {self.dv.vault}\n    caFile: {self.ca_file}\n")
        self.assertIn("caFile", policy)
        node.write_policy(policy)
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return node

    def refused(self, node, expect_text):
        err = self.wait_until(lambda: node.binding()["status"].get("lastError"), 15, "a last error")
        self.assertEqual(err["class"], "transport", err)
        self.assertEqual(err["operation"], "login", err)
        self.assertIn(expect_text, err["vaultMessage"] + " " + err["explanation"], err)
        doc = node.binding()
        self.assertEqual(doc["status"]["state"], "RETRYING", doc["status"])
        self.assertEqual(doc["status"]["file"]["files"], [])
        self.assertIn(expect_text, self.status_row(node))
        # No request ever reached Vault's API through the refused handshake.
        self.assertEqual(self.dv.count("auth/jwt/login"), 0)

    def test_control_a_valid_certificate_for_the_address_is_accepted(self):
        self.serve([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        node = self.node()
        self.wait_state(node, "OK", timeout=20)
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)

    def test_an_expired_certificate_is_refused(self):
        self.serve([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
                   not_before=self.now - datetime.timedelta(days=10), not_after=self.now - datetime.timedelta(days=1))
        self.refused(self.node(), "certificate has expired")

    def test_a_certificate_for_another_host_is_refused(self):
        self.serve([x509.DNSName("vault.example.com")])
        self.refused(self.node(), "the certificate is not for '127.0.0.1'")

    def test_a_certificate_from_an_unknown_ca_is_refused(self):
        other = ec.generate_private_key(ec.SECP256R1())
        self.serve([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], signer=(other, "another CA"))
        self.refused(self.node(), "unable to get local issuer certificate")


if __name__ == "__main__":
    unittest.main(verbosity=2)
