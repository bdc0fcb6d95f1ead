# SPDX-License-Identifier: Apache-2.0
# The OpenAI secrets engine (as gitrgoliveira/vault-plugin-secrets-openai behaves) and the in-memory
# OpenAI organisation it manages: projects, service accounts and their API keys.
import re
import secrets
import string
import threading
import time
from urllib.parse import urlsplit

from .backend import require_ops
from .records import Response, Secret
from .framework import FrameworkBackend
from .wire import (DurationError, internal_error, parse_duration, rand_lower, unsupported_path,
                   user_error)

DEFAULT_TEMPLATE = "vault-{{.RoleName}}-{{.RandomSuffix}}"
DEFAULT_DESCRIPTION = "Service account created by Vault"
DEFAULT_TTL = 3600
DEFAULT_MAX_TTL = 86400
DEFAULT_ENDPOINT = "https://api.openai.com/v1"
_KEY_ALPHABET = string.ascii_letters + string.digits + "_-"


class OpenAIStore:
    """The stand-in organisation: which projects exist and which service-account keys are live."""

    def __init__(self, projects):
        self.lock = threading.Lock()
        self.projects = set(projects)
        self.accounts = {}  # service account id -> record
        self.keys = {}  # api key value -> service account id

    def project_exists(self, project_id):
        with self.lock:
            return project_id in self.projects

    def create_service_account(self, project_id, name, organization_id):
        sa_id = "user-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
        key_id = "key_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
        key = "sk-svcacct-" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(74)) + "T3BlbkFJ" + \
              "".join(secrets.choice(_KEY_ALPHABET) for _ in range(74))
        with self.lock:
            self.accounts[sa_id] = {"id": sa_id, "name": name, "project_id": project_id, "key_id": key_id,
                                    "key": key, "organization_id": organization_id, "created_at": int(time.time())}
            self.keys[key] = sa_id
        return sa_id, key_id, key

    def delete_service_account(self, project_id, sa_id):
        with self.lock:
            rec = self.accounts.pop(sa_id, None)
            if rec is not None:
                self.keys.pop(rec["key"], None)
        return rec is not None

    def lookup_key(self, key):
        with self.lock:
            sa_id = self.keys.get(key)
            return dict(self.accounts[sa_id]) if sa_id else None

    def live_keys(self):
        with self.lock:
            return len(self.keys)


def _render_template(tmpl, role_name, project_name):
    def repl(m):
        expr = m.group(1).strip()
        if expr == ".RoleName":
            return role_name
        if expr == ".RandomSuffix":
            return rand_lower(8)
        if expr == ".ProjectName":
            return project_name
        if expr == "unix_time":
            return str(int(time.time()))
        rm = re.fullmatch(r"random\s+([0-9]+)", expr)
        if rm:
            return rand_lower(int(rm.group(1)))
        raise user_error(f"unable to render service account name template: unknown expression {{{{{expr}}}}}")
    out = re.sub(r"\{\{(.*?)\}\}", repl, tmpl)
    return re.sub(r"[^a-zA-Z0-9_-]", "-", out)


class OpenAIBackend(FrameworkBackend):
    type_name = "openai"

    def handle_other(self, req, subpath):
        if subpath.startswith("creds/"):
            require_ops(req, "read")
            return self.creds(req, subpath[len("creds/"):])
        raise unsupported_path()

    # ---- config ---------------------------------------------------------------------------------
    def config_op(self, req):
        if req.op == "read":
            return self.read_config(lambda c: {
                "admin_api_key_id": c["admin_api_key_id"], "api_endpoint": c["api_endpoint"],
                "organization_id": c["organization_id"], "disable_automated_rotation": False,
                "rotation_period": 0, "rotation_schedule": "", "rotation_window": 0})
        if req.op == "delete":
            with self.core.lock:
                self.config = None
            return None
        require_ops(req, "update")
        d = req.data
        with self.core.lock:
            c = dict(self.config) if self.config else {"api_endpoint": DEFAULT_ENDPOINT}
        for f in ("admin_api_key", "admin_api_key_id", "organization_id", "api_endpoint"):
            if f in d:
                c[f] = str(d[f])
        for f in ("admin_api_key", "admin_api_key_id", "organization_id"):
            if not c.get(f):
                raise user_error(f"{f} is required")
        u = urlsplit(c["api_endpoint"])
        if u.scheme not in ("http", "https") or not u.hostname or u.username or u.password or u.query or u.fragment:
            raise user_error(f"error validating OpenAI configuration: invalid api_endpoint {c['api_endpoint']!r}: "
                             "must be an http(s) URL with a host and no userinfo, query or fragment")
        with self.core.lock:
            self.config = c
        return None

    # ---- roles ----------------------------------------------------------------------------------
    def _validate_project(self, project_id):
        with self.core.lock:
            c = self.config
        if c is None:
            raise internal_error("error validating project: OpenAI project validation failed: API error (401): "
                                 "invalid_request_error - You didn't provide an API key.")
        status = getattr(self.core.faults, "openai_admin_status", 0)
        if status:
            raise internal_error(f"error validating project: OpenAI project validation failed: API error ({status}): "
                                 "server_error - The server had an error while processing your request.")
        if not self.core.openai_store.project_exists(project_id):
            return False
        return True

    def update_role(self, req, existing):
        d = req.data
        r = dict(existing) if existing else {"project_id": "", "service_account_name_template": DEFAULT_TEMPLATE,
                                              "service_account_description": DEFAULT_DESCRIPTION,
                                              "ttl": DEFAULT_TTL, "max_ttl": DEFAULT_MAX_TTL}
        if "project_id" in d:
            r["project_id"] = str(d["project_id"])
        if r["project_id"] == "":
            raise user_error("project_id is required")
        for f in ("service_account_name_template", "service_account_description"):
            if f in d and str(d[f]) != "":
                r[f] = str(d[f])
        try:
            if "ttl" in d:
                r["ttl"] = parse_duration(d["ttl"], "ttl") or DEFAULT_TTL
            if "max_ttl" in d:
                r["max_ttl"] = parse_duration(d["max_ttl"], "max_ttl") or DEFAULT_MAX_TTL
        except DurationError as e:
            raise user_error(str(e))
        if r["ttl"] > r["max_ttl"]:
            raise user_error("ttl cannot be greater than max_ttl")
        if not self._validate_project(r["project_id"]):
            raise user_error(f'project_id "{r["project_id"]}" does not exist')
        return r

    # ---- creds ----------------------------------------------------------------------------------
    def creds(self, req, role_name):
        with self.core.lock:
            r = self.roles.get(role_name)
            c = self.config
        if r is None:
            raise user_error(f'role "{role_name}" does not exist')
        if not self._validate_project(r["project_id"]):
            raise internal_error(f"error validating project: OpenAI project validation failed: API error (404): "
                                 f"invalid_request_error - No such project: {r['project_id']}")
        ttl = r["ttl"]
        if "ttl" in req.data:
            try:
                requested = parse_duration(req.data["ttl"], "ttl")
            except DurationError:
                requested = 0
            # The plugin uses a requested ttl only when 0 < ttl < max_ttl; anything else is ignored.
            if 0 < requested < r["max_ttl"]:
                ttl = requested
        name = _render_template(r["service_account_name_template"], role_name, r["project_id"])
        store = self.core.openai_store
        sa_id, key_id, key = store.create_service_account(r["project_id"], name, c["organization_id"])
        project_id = r["project_id"]

        def revoke(internal):
            store.delete_service_account(internal["project_id"], internal["service_account_id"])

        internal = {"api_key_id": key_id, "service_account_id": sa_id, "project_id": project_id,
                    "secret_type": "openai_api_key"}
        data = {"api_key": key, "api_key_id": key_id, "service_account": name, "service_account_id": sa_id}
        return Response(data=data, secret=Secret(ttl=ttl, max_ttl=r["max_ttl"], renewable=False,
                                                 internal=internal, revoke=revoke))
