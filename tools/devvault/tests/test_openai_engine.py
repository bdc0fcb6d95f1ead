# SPDX-License-Identifier: Apache-2.0
# The OpenAI secrets engine: config and role validation with the plugin's strings, role defaults,
# projects that exist only when named on the command line, and upstream-style failures.
import unittest

from devvault_harness import DevVaultTestCase, err


class OpenAIEngineTest(DevVaultTestCase):
    extra_args = ("--openai-project", "proj_a", "--openai-project", "proj_b")

    def test_config_and_role_validation(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/ai", {"type": "openai"})
        creds_unconfigured = dv.call("GET", "ai/creds/none", token=dv.root)
        self.assertBody(creds_unconfigured, 400, err('role "none" does not exist'))
        for body, missing in (({}, "admin_api_key"), ({"admin_api_key": "sk-admin"}, "admin_api_key_id"),
                              ({"admin_api_key": "sk-admin", "admin_api_key_id": "id"}, "organization_id")):
            self.assertBody(dv.call("POST", "ai/config", body, token=dv.root), 400, err(f"{missing} is required"))
        dv.root_call("POST", "ai/config", {"admin_api_key": "sk-admin", "admin_api_key_id": "key_1",
                                           "organization_id": "org-1"})
        cfg = dv.root_call("GET", "ai/config")["data"]
        self.assertEqual((cfg["api_endpoint"], cfg["organization_id"], cfg["admin_api_key_id"]),
                         ("https://api.openai.com/v1", "org-1", "key_1"))
        self.assertNotIn("admin_api_key", cfg)
        self.assertBody(dv.call("POST", "ai/roles/r", {}, token=dv.root), 400, err("project_id is required"))
        self.assertBody(dv.call("POST", "ai/roles/r", {"project_id": "proj_default"}, token=dv.root), 400,
                        err('project_id "proj_default" does not exist'))
        self.assertBody(dv.call("POST", "ai/roles/r", {"project_id": "proj_a", "ttl": "2h", "max_ttl": "1h"},
                                token=dv.root), 400, err("ttl cannot be greater than max_ttl"))
        dv.root_call("POST", "ai/roles/r", {"project_id": "proj_b"})
        role = dv.root_call("GET", "ai/roles/r")["data"]
        self.assertEqual(role, {"max_ttl": 86400, "project_id": "proj_b",
                                "service_account_description": "Service account created by Vault",
                                "service_account_name_template": "vault-{{.RoleName}}-{{.RandomSuffix}}", "ttl": 3600})
        self.assertEqual(dv.root_call("GET", "ai/roles?list=true")["data"]["keys"], ["r"])
        secret = dv.root_call("GET", "ai/creds/r")
        self.assertEqual((secret["lease_duration"], secret["renewable"]), (3600, False))
        self.assertBody(dv.call("POST", "ai/creds/r", {}, token=dv.root), 405,
                        err("1 error occurred:\n\t* unsupported operation\n\n"))
        status, _, body = dv.openai_call("GET", "/v1/models", secret["data"]["api_key"], {"OpenAI-Project": "proj_b",
                                                                                          "OpenAI-Organization": "org-1"})
        self.assertEqual(status, 200, body)

    def test_an_unconfigured_mount_fails_like_an_unauthenticated_upstream_call(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/bare", {"type": "openai"})
        self.assertBody(dv.call("POST", "bare/roles/r", {"project_id": "proj_a"}, token=dv.root), 500, err(
            "1 error occurred:\n\t* error validating project: OpenAI project validation failed: API error (401): "
            "invalid_request_error - You didn't provide an API key.\n\n"))

    def test_upstream_failures_become_500_multierrors(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/flaky", {"type": "openai"})
        dv.root_call("POST", "flaky/config", {"admin_api_key": "sk-admin", "admin_api_key_id": "key_1",
                                              "organization_id": "org-1"})
        dv.root_call("POST", "flaky/roles/r", {"project_id": "proj_a"})
        dv.root_call("POST", "sys/devvault/faults", {"openai_admin_status": 503})
        self.addCleanup(dv.call, "DELETE", "sys/devvault/faults", token=dv.root)
        self.assertBody(dv.call("GET", "flaky/creds/r", token=dv.root), 500, err(
            "1 error occurred:\n\t* error validating project: OpenAI project validation failed: API error (503): "
            "server_error - The server had an error while processing your request.\n\n"))
        dv.root_call("DELETE", "sys/devvault/faults")
        self.assertEqual(dv.call("GET", "flaky/creds/r", token=dv.root)[0], 200)

    def test_disabling_the_mount_revokes_its_leases(self):
        dv = self.dv
        dv.root_call("POST", "sys/mounts/gone", {"type": "openai"})
        dv.root_call("POST", "gone/config", {"admin_api_key": "sk-admin", "admin_api_key_id": "key_1",
                                             "organization_id": "org-1"})
        dv.root_call("POST", "gone/roles/r", {"project_id": "proj_a"})
        key = dv.root_call("GET", "gone/creds/r")["data"]["api_key"]
        self.assertEqual(dv.openai_call("GET", "/v1/models", key)[0], 200)
        self.assertBody(dv.call("POST", "sys/mounts/gone", {"type": "openai"}, token=dv.root), 400,
                        err("path is already in use at gone/"))
        self.assertBody(dv.call("DELETE", "sys/mounts/gone", token=dv.root), 204, b"")
        self.assertEqual(dv.openai_call("GET", "/v1/models", key)[0], 401)


if __name__ == "__main__":
    unittest.main()
