#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Vault's JWT auth pointed at credgated's issuer three ways (OIDC discovery, JWKS URL, a persisted
# public key), and logins that keep working across the issuer's key rotation.
import os
import stat
import time
import unittest

from harness import IntegrationCase


class JwtAuthModes(IntegrationCase):
    def deliver(self, node):
        self.wait_state(node, "OK")
        secret = self.read_secret(node)
        self.assertEqual(self.dv.models(secret["api_key"])[0], 200)
        return secret

    def test_oidc_discovery_url(self):
        self.deliver(self.seed_node(jwt="discovery"))

    def test_jwks_url(self):
        self.deliver(self.seed_node(jwt="jwks"))

    def test_jwt_validation_pubkeys_with_a_persisted_key(self):
        key = os.path.join(self.tmp, "issuer-key.pem")
        node = self.seed_node(jwt="pubkeys", issuer_extra=f"  keyFile: {key}\n")
        self.deliver(node)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        r = node.ctl("issuer")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("jwt_validation_pubkeys=@credgate-issuer.pem", r.stdout)
        self.assertIn("-----BEGIN PUBLIC KEY-----", r.stdout)
        # The same key after a restart: Vault's configured public key still verifies the logins.
        kid = node.api("GET", "/v1/issuer")[1]["currentKid"]
        self.assertEqual(node.stop(), 0)
        node.start()
        self.assertEqual(node.api("GET", "/v1/issuer")[1]["currentKid"], kid)
        self.deliver(node)

    def test_issuer_key_rotation_does_not_break_logins(self):
        # Keys rotate every 2 s; the secret lives 4 s, so credgated logs in again every few seconds.
        node = self.seed_node(jwt="discovery", ttl="4s", issuer_extra="  tokenTTL: 2s\n  keyRotation: 2s\n",
                              refresh={"minLead": "1s", "revokeGrace": "1s"})
        self.wait_state(node, "OK")
        kids = {node.api("GET", "/v1/issuer")[1]["currentKid"]}
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            kids.add(node.api("GET", "/v1/issuer")[1]["currentKid"])
            time.sleep(0.2)
        self.assertGreaterEqual(len(kids), 4, "the signing key must have rotated several times")
        # The binding re-logs in every few seconds: sampled at any moment it may be REFRESHING. It must
        # come back to OK and never have failed a login or a read on the way.
        self.wait_state(node, "OK")
        doc = node.binding()
        self.assertGreaterEqual(doc["status"]["counters"]["logins"], 3)
        self.assertEqual(doc["status"]["counters"]["failures"], 0, doc["status"].get("lastError"))
        self.assertNotIn("lastError", doc["status"], doc["status"].get("lastError"))
        self.assertEqual(self.dv.models(self.read_secret(node)["api_key"])[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
