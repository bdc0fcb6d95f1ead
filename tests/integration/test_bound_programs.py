#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# `credgatectl status` warns, per binding, when a bound program (process:path) could be replaced by a
# uid other than root through a directory on its path, and stops when the directory is fixed.
import os
import unittest

from harness import IntegrationCase, seed_policy

BINDING = "vault-openai-apikeys-binding"


class BoundPrograms(IntegrationCase):
    def test_status_warns_about_a_program_another_uid_can_replace_until_it_is_fixed(self):
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        program = os.path.join(bindir, "agent")
        with open(program, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(program, 0o755)
        os.chmod(self.tmp, 0o755)
        os.chmod(bindir, 0o777)  # anyone may rename the program away (no sticky bit)
        policy = seed_policy(self.dv.vault).replace("process:path: /usr/bin/python3", f"process:path: {program}")
        node = self.credgated(policy)
        node.start()

        r = node.ctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stdout.splitlines() if l.startswith(f"warning: {BINDING}: ")]
        self.assertTrue(any(f"process:path '{program}' can be replaced by a uid other than root: '{bindir}' on its "
                            f"path is" in l and f"chmod go-w '{bindir}'" in l for l in lines), r.stdout)
        warnings = node.binding()["status"].get("warnings", [])
        self.assertTrue(any(f"'{bindir}' on its path" in w for w in warnings), warnings)

        if os.geteuid() != 0:
            return  # only root can make every directory on the path root-owned
        os.chmod(bindir, 0o755)
        r = node.ctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("can be replaced", r.stdout)
        self.assertNotIn("warnings", node.binding()["status"])


if __name__ == "__main__":
    unittest.main()
