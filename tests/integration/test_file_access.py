#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# File permissions as the second layer under the kernel programs: the file of an identity that pins
# one uid is that uid's with mode 0400, so without enforcement another user still cannot read it;
# any other file is root's 0644 and status says the kernel programs are the only gate. Also: the
# credentials live on a file system that never swaps, and status says which.
import os
import shutil
import stat
import subprocess
import unittest

from harness import IntegrationCase, configure_seed, seed_policy, seed_role_for, TRUST_DOMAIN

ONLY_GATE = "the kernel programs are the only gate (the identity pins no single uid)"
NOBODY = 65534
DAEMON_UID = 1

OTHER_DOCS = """---
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata:
  name: vault-openai-other
spec:
  vault:
    address: {vault}
    jwtAuthMethodPath: jwt
    role: other-apikeys
    path: openai/creds/my-role
    audience: [vault]
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: any-python
spec:
  workloadID: any-python
  selectors:
    - process:path: /usr/bin/python3
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata:
  name: unpinned-key
spec:
  workloadID: any-python
  credentialSource: vault-openai-other
  propagation:
    file: {{}}
"""


class FileAccess(IntegrationCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("giving a file to another uid and reading as another user need root")
        self.setpriv = shutil.which("setpriv")
        if self.setpriv is None:
            self.skipTest("setpriv (util-linux) is not installed")

    def read_as(self, uid, path):
        return subprocess.run([self.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "cat", path],
                              capture_output=True, text=True, timeout=30)

    def test_a_uid_pinned_identity_owns_its_file_0400_and_another_gets_0644_with_a_status_note(self):
        node = self.credgated("")
        node.start()
        configure_seed(self.dv, {"oidc_discovery_url": node.issuer})
        self.dv.root_call("POST", "auth/jwt/role/other-apikeys", seed_role_for(f"spiffe://{TRUST_DOMAIN}/any-python"))
        policy = seed_policy(self.dv.vault).replace("      process:uid: 0\n", "      process:user: nobody\n")
        node.write_policy(policy + OTHER_DOCS.format(vault=self.dv.vault))
        r = node.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pinned = self.wait_state(node, "OK")
        unpinned = self.wait_state(node, "OK", name="unpinned-key")

        pinned_path = pinned["status"]["file"]["files"][0]["path"]
        unpinned_path = unpinned["status"]["file"]["files"][0]["path"]
        st = os.stat(pinned_path)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (NOBODY, 0o400))
        st = os.stat(unpinned_path)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o644))
        for d in (os.path.dirname(pinned_path), os.path.dirname(os.path.dirname(pinned_path))):
            st = os.stat(d)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o755), d)

        self.assertEqual(pinned["status"]["file"]["ownerUID"], NOBODY)
        self.assertEqual(pinned["status"]["file"]["files"][0]["mode"], "0400")
        self.assertNotIn("note", pinned["status"]["file"])
        self.assertEqual(unpinned["status"]["file"]["note"], ONLY_GATE)
        status = node.ctl("status")
        self.assertIn(f"note: unpinned-key: {ONLY_GATE}", status.stdout)
        self.assertNotIn("note: vault-openai-apikeys-binding:", status.stdout)
        y = node.ctl("get", "binding", "unpinned-key", "-o", "yaml")
        self.assertIn(f"note: {ONLY_GATE}", y.stdout)

        # Without enforcement (these tests run --insecure-no-enforcement), the permissions are what
        # stands between another user and the key: the owner reads it, another user does not.
        for d in (self.tmp, node.dir):
            os.chmod(d, 0o755)
        as_owner = self.read_as(NOBODY, pinned_path)
        self.assertEqual(as_owner.returncode, 0, as_owner.stderr)
        self.assertIn("api_key", as_owner.stdout)
        as_other = self.read_as(DAEMON_UID, pinned_path)
        self.assertNotEqual(as_other.returncode, 0)
        self.assertIn("Permission denied", as_other.stderr)
        self.assertEqual(self.read_as(DAEMON_UID, unpinned_path).returncode, 0,
                         "a 0644 file is open to every local user when the kernel programs do not enforce")

    def test_credentials_live_on_a_file_system_that_never_swaps_and_status_says_which(self):
        node = self.seed_node()
        self.wait_state(node, "OK")
        _, doc = node.api("GET", "/v1/status")
        delivery = doc["daemon"]["delivery"]
        self.assertIn(delivery["filesystem"], ("tmpfs (noswap)", "ramfs"))
        self.assertFalse(delivery["maySwap"])
        self.assertEqual(delivery["root"], node.root)
        self.assertGreater(delivery["publishedBytes"], 0)
        self.assertTrue(os.path.ismount(node.root))
        with open("/proc/self/mountinfo") as f:
            line = [ln for ln in f if f" {node.root} " in ln][-1]
        fstype, _, options = line.split(" - ")[1].split()[:3]
        self.assertEqual(fstype, delivery["filesystem"].split()[0])
        if fstype == "tmpfs":
            self.assertIn("noswap", options.split(","))
        status = node.ctl("status")
        self.assertIn(f"delivery: {delivery['filesystem']} at {node.root} (never swapped)", status.stdout)
        self.assertIn(f"Mounted {delivery['filesystem']} at '{node.root}'", node.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
