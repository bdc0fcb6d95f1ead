# SPDX-License-Identifier: Apache-2.0
# The sys/ backend: mounts, auth methods, ACL policies, seal and unseal, leases, health, and the
# dev-only fault injection and statistics endpoints.
import time

from .backend import Backend, require_ops
from .dynamic import DynamicBackend
from .jwtauth import JWTBackend
from .kv import KVBackend
from .openai import OpenAIBackend
from .records import Mount, Response
from .wire import (S, VaultError, DurationError, SYSTEM_MAX_TTL, go_json, human_duration, new_uuid, parse_duration,
                   rfc3339, to_bool, unsupported_path, user_error)

RESERVED_MOUNTS = ("sys/", "auth/", "identity/", "cubbyhole/")
VERSIONS = {"vault": "1.19.4", "openbao": "2.4.1"}  # the server version each flavor reports


def _norm_mount_path(p):
    p = p.strip("/")
    return p + "/" if p else ""


class SystemBackend(Backend):
    type_name = "system"

    def __init__(self, core):
        self.core = core

    def needs_sudo(self, req):
        p = req.path
        return (p.startswith("sys/auth/") or p == "sys/seal" or p.startswith("sys/leases/revoke-prefix/")
                or (p.startswith("sys/leases/lookup/") and req.op == "list"))

    def handle(self, req):
        p = req.subpath
        if p == "mounts" or p == "mounts/":
            require_ops(req, "read", "list")
            return self.list_mounts(auth=False)
        if p.startswith("mounts/"):
            return self.mount_op(req, p[len("mounts/"):], auth=False)
        if p == "auth" or p == "auth/":
            require_ops(req, "read", "list")
            return self.list_mounts(auth=True)
        if p.startswith("auth/"):
            return self.mount_op(req, p[len("auth/"):], auth=True)
        if p in ("policies/acl", "policies/acl/", "policy", "policy/"):
            require_ops(req, "list", "read")
            with self.core.lock:
                keys = sorted(set(self.core.policies) | {"root"})
            return Response(data={"keys": keys, "policies": keys})
        if p.startswith("policies/acl/"):
            return self.policy_op(req, p[len("policies/acl/"):], legacy=False)
        if p.startswith("policy/"):
            return self.policy_op(req, p[len("policy/"):], legacy=True)
        if p == "seal":
            require_ops(req, "update")
            with self.core.lock:
                self.core.sealed = True
            return None
        if p == "seal-status":
            require_ops(req, "read")
            return Response(raw=(200, {}, go_json(self.seal_status())))
        if p == "unseal":
            require_ops(req, "update")
            return self.unseal(req)
        if p.startswith("leases/lookup/") and req.op == "list":
            return self.lease_list(p[len("leases/lookup/"):])
        for prefix, fn in (("leases/lookup", self.lease_lookup), ("leases/renew", self.lease_renew),
                           ("renew", self.lease_renew), ("leases/revoke-prefix/", self.lease_revoke_prefix),
                           ("leases/revoke", self.lease_revoke), ("revoke", self.lease_revoke)):
            if p == prefix or p.startswith(prefix + ("/" if not prefix.endswith("/") else "")):
                require_ops(req, "update")
                rest = p[len(prefix):].lstrip("/")
                return fn(req, rest)
        if p == "capabilities-self":
            require_ops(req, "update")
            return self.capabilities_self(req)
        raise unsupported_path()

    # ---- mounts ---------------------------------------------------------------------------------
    def _mount_info(self, m):
        return {"accessor": m.accessor, "config": {"default_lease_ttl": 0, "force_no_cache": False, "max_lease_ttl": 0},
                "description": m.description, "external_entropy_access": False, "local": False,
                "options": m.options, "plugin_version": "", "running_plugin_version": "", "running_sha256": "",
                "seal_wrap": False, "type": m.type, "uuid": m.uuid}

    def list_mounts(self, auth):
        with self.core.lock:
            out = {}
            for path, m in self.core.mounts.items():
                if auth and m.is_auth:
                    out[path[len("auth/"):]] = self._mount_info(m)
                elif not auth and not m.is_auth:
                    out[path] = self._mount_info(m)
        return Response(data=out)

    def mount_op(self, req, sub, auth):
        path = _norm_mount_path(sub)
        if path == "":
            raise user_error("path cannot be empty" if not auth else "auth path cannot be empty")
        full = ("auth/" + path) if auth else path
        if req.op == "read":
            with self.core.lock:
                m = self.core.mounts.get(full)
            if m is None:
                raise user_error(f"No {'auth' if auth else 'secret engine'} mount at {path}")
            return Response(data=self._mount_info(m))
        if req.op == "delete":
            with self.core.lock:
                m = self.core.mounts.get(full)
                if m is None or full in ("sys/", "auth/token/"):
                    if m is not None:
                        raise user_error(f"cannot unmount \"{path}\"")
                    return None
                del self.core.mounts[full]
            self.core.revoke_prefix(full)
            m.backend.on_unmount()
            return None
        require_ops(req, "update")
        typ = str(req.data.get("type", "")).strip()
        if typ == "":
            raise user_error("backend type must be specified as a string")
        options = req.data.get("options") or {}
        if not isinstance(options, dict):
            raise user_error("options must be a map of strings")
        options = {k: str(v) for k, v in options.items()}
        backend, type_name = self.make_backend(typ, options, auth)
        if type_name == "kv":
            options = dict(options, version=str(backend.version))
        if not auth:
            for r in RESERVED_MOUNTS:
                if full.startswith(r):
                    raise user_error(f"cannot mount under reserved path \"{r}\"")
        with self.core.lock:
            for existing in self.core.mounts:
                if existing.startswith(full) or full.startswith(existing):
                    raise user_error(f"path is already in use at {existing}")
            m = Mount(full, type_name, backend, options=options or None,
                      description=str(req.data.get("description", "")), is_auth=auth)
            backend.mount = m
            self.core.mounts[full] = m
        return None

    def make_backend(self, typ, options, auth):
        if auth:
            if typ in ("jwt", "oidc"):
                return JWTBackend(self.core), typ
        else:
            if typ in ("kv", "kv-v1", "kv-v2"):
                version = 2 if typ == "kv-v2" else (1 if typ == "kv-v1" else int(options.get("version", "1") or 1))
                if version not in (1, 2):
                    raise user_error(f"invalid version: {options.get('version')}")
                return KVBackend(self.core, version), "kv"
            if typ in ("openai", "vault-plugin-secrets-openai"):
                return OpenAIBackend(self.core), typ
            if typ == "devvault-dynamic":
                return DynamicBackend(self.core), typ
        raise user_error(f"plugin not found in the catalog: {typ}")

    # ---- policies -------------------------------------------------------------------------------
    def policy_op(self, req, name, legacy):
        name = name.strip().lower()
        if req.op == "read":
            with self.core.lock:
                if name == "root":
                    text = ""
                elif name not in self.core.policy_text:
                    return None
                else:
                    text = self.core.policy_text[name]
            return Response(data={"name": name, "rules": text} if legacy else {"name": name, "policy": text})
        if req.op == "delete":
            if name in ("default", "root"):
                raise user_error(f'cannot delete "{name}" policy')
            with self.core.lock:
                self.core.policies.pop(name, None)
                self.core.policy_text.pop(name, None)
            return None
        require_ops(req, "update")
        if name == "root":
            raise user_error('cannot update "root" policy')
        text = req.data.get("policy", req.data.get("rules", ""))
        if not isinstance(text, str) or text.strip() == "":
            raise user_error("'policy' parameter not supplied or empty")
        self.core.set_policy(name, text)
        return None

    # ---- seal -----------------------------------------------------------------------------------
    def seal_status(self):
        s = S()
        s["type"] = "shamir"
        s["initialized"] = True
        s["sealed"] = self.core.sealed
        s["t"] = 1
        s["n"] = 1
        s["progress"] = 0
        s["nonce"] = ""
        s["version"] = VERSIONS[self.core.flavor]
        s["build_date"] = "2025-06-01T00:00:00Z"
        s["migration"] = False
        if not self.core.sealed:
            s["cluster_name"] = self.core.cluster_name
            s["cluster_id"] = self.core.cluster_id
        s["recovery_seal"] = False
        s["storage_type"] = "inmem"
        return s

    def unseal(self, req):
        key = req.data.get("key", "")
        reset = req.data.get("reset", False)
        if not key and not reset:
            raise user_error("'key' must be specified in request body as JSON, or 'reset' set to true")
        if key:
            with self.core.lock:
                self.core.sealed = False
        return Response(raw=(200, {}, go_json(self.seal_status())))

    # ---- health ---------------------------------------------------------------------------------
    def health(self, req):
        core = self.core
        q = req.query

        def code(name, default):
            v = q.get(name)
            if v is None or v == "":
                return default
            try:
                return int(v)
            except ValueError:
                raise VaultError(400, [f"bad code: {v}"])

        def flag(name):
            return name in q and str(q.get(name, "")).lower() in ("", "true", "1", "t")

        for name in ("activecode", "standbycode", "sealedcode", "uninitcode", "drsecondarycode",
                     "performancestandbycode", "removedcode", "haunhealthycode"):
            code(name, 0)
        standby = core.faults.standby
        if core.sealed:
            status = code("sealedcode", 503)
        elif standby:
            status = code("activecode", 200) if flag("standbyok") else code("standbycode", 429)
        else:
            status = code("activecode", 200)
        if req.method == "HEAD":
            return status, {}, None
        b = S()
        b["initialized"] = True
        b["sealed"] = core.sealed
        b["standby"] = standby
        if core.flavor == "vault":
            b["performance_standby"] = False
        b["replication_performance_mode"] = "disabled"
        b["replication_dr_mode"] = "disabled"
        b["server_time_utc"] = int(time.time())
        b["version"] = VERSIONS[core.flavor]
        if core.flavor == "vault":
            b["enterprise"] = False
        if not core.sealed:
            b["cluster_name"] = core.cluster_name
            b["cluster_id"] = core.cluster_id
        if core.flavor == "vault":
            b["echo_duration_ms"] = 0
            b["clock_skew_ms"] = 0
            b["replication_primary_canary_age_ms"] = 0
        return status, {}, go_json(b)

    # ---- leases ---------------------------------------------------------------------------------
    def _lease_id(self, req, rest):
        lid = req.data.get("lease_id") or rest
        if not lid:
            raise user_error("lease_id must be specified")
        return str(lid)

    def lease_list(self, prefix):
        with self.core.lock:
            ids = list(self.core.leases) + [self.core.token_lease_id(t) for t in self.core.tokens.values()
                                            if t.expire_time is not None and t.type == "service"]
        keys = set()
        for lid in ids:
            if lid.startswith(prefix):
                rest = lid[len(prefix):].lstrip("/") if prefix.endswith("/") or not prefix else lid[len(prefix):]
                if rest.startswith("/"):
                    continue
                keys.add(rest.split("/", 1)[0] + ("/" if "/" in rest else ""))
        keys.discard("")
        return Response(data={"keys": sorted(keys)}) if keys else None

    def lease_lookup(self, req, rest):
        lid = self._lease_id(req, rest)
        with self.core.lock:
            lease = self.core.leases.get(lid)
            t = self.core.token_by_lease_id(lid) if lease is None else None
            if t is not None:
                now = time.time()
                return Response(data={"id": lid, "issue_time": rfc3339(t.creation_time),
                                      "expire_time": rfc3339(t.expire_time), "last_renewal": rfc3339(t.last_renewal),
                                      "renewable": t.renewable, "ttl": max(0, int(round(t.expire_time - now))),
                                      "path": t.path})
            if lease is None:
                raise user_error("invalid lease")
            now = time.time()
            data = {"id": lease.id, "issue_time": rfc3339(lease.issue_time), "expire_time": rfc3339(lease.expire_time),
                    "last_renewal": rfc3339(lease.last_renewal), "renewable": lease.renewable,
                    "ttl": max(0, int(round(lease.expire_time - now))) if lease.expire_time else 0,
                    "path": lease.path}
        return Response(data=data)

    def lease_renew(self, req, rest):
        lid = self._lease_id(req, rest)
        try:
            increment = parse_duration(req.data.get("increment", 0), "increment")
        except DurationError as e:
            raise user_error(str(e))
        with self.core.lock:
            lease = self.core.leases.get(lid)
            if lease is None and self.core.token_by_lease_id(lid) is not None:
                raise user_error("tokens cannot be renewed through this endpoint")
            if lease is None:
                raise user_error("lease not found")
            now = time.time()
            if lease.is_token:
                raise user_error("tokens cannot be renewed through this endpoint")
            if lease.expire_time is not None and lease.expire_time <= now:
                raise user_error("lease expired")
            if not lease.renewable:
                raise user_error("lease is not renewable")
            ttl = increment if increment > 0 else (lease.secret.ttl or lease.ttl)
            max_valid = lease.issue_time + (lease.max_ttl or SYSTEM_MAX_TTL)
            if now >= max_valid:
                raise user_error("past the max TTL, cannot renew")
            warnings = None
            remaining = int(max_valid - now)
            if ttl > remaining:
                warnings = [f'TTL of "{human_duration(ttl)}" exceeded the effective max_ttl of '
                            f'"{human_duration(remaining)}"; TTL value is capped accordingly']
                ttl = remaining
            lease.ttl = ttl
            lease.expire_time = now + ttl
            lease.last_renewal = now
        if lease.secret.renew is not None:
            lease.secret.renew(lease.secret.internal, ttl)
        e = S()
        e["request_id"] = new_uuid()
        e["lease_id"] = lease.id
        e["renewable"] = True
        e["lease_duration"] = int(ttl)
        e["data"] = None
        e["wrap_info"] = None
        e["warnings"] = warnings
        e["auth"] = None
        if self.core.flavor == "vault":
            e["mount_type"] = "system"
        return Response(raw=(200, {}, go_json(e)))

    def lease_revoke(self, req, rest):
        lid = self._lease_id(req, rest)
        sync = to_bool(req.data.get("sync", True), "sync")
        with self.core.lock:
            t = self.core.token_by_lease_id(lid)
        if t is not None:
            self.core.revoke_token(t.id)
        self.core.revoke_lease(lid)
        if not sync:
            return Response(raw=(202, {}, None))
        return None

    def lease_revoke_prefix(self, req, rest):
        prefix = rest or req.data.get("prefix", "")
        if not prefix:
            raise user_error("prefix must be specified")
        self.core.revoke_prefix(prefix)
        return None

    def capabilities_self(self, req):
        paths = req.data.get("paths") or req.data.get("path") or []
        if isinstance(paths, str):
            paths = [p for p in paths.split(",") if p]
        if not paths:
            raise user_error("paths must be supplied")
        token = req.token_entry
        with self.core.lock:
            a = self.core.acl_for(token)
        data = {}
        for p in paths:
            data[p] = a.capabilities(p.lstrip("/"))
        if len(paths) == 1:
            data["capabilities"] = data[paths[0]]
        return Response(data=data)

    # ---- dev-only -------------------------------------------------------------------------------
    def devvault(self, req):
        core = self.core
        if req.token != core.root_token:
            raise VaultError(403, ["permission denied"])
        p = req.path[len("sys/devvault/"):]
        if p == "faults":
            f = core.faults
            if req.method == "DELETE":
                with core.lock:
                    f.clear()
                return 204, {}, None
            if req.method == "GET":
                return 200, {}, go_json(_envelope_data(core, f.as_dict()))
            if req.method in ("POST", "PUT"):
                d = req.data
                known = {"latency_ms", "fail_rate", "fail_status", "fail_count", "drop_connections", "truncate_bodies",
                         "oversized_bodies", "reset_mid_body", "garbage_bodies", "redirect_loop", "paths",
                         "standby", "rate_limit", "openai_admin_status", "pause_expiry"}
                unknown = sorted(set(d) - known)
                if unknown:
                    raise user_error(f"unknown fault fields: {', '.join(unknown)}")
                with core.lock:
                    if "latency_ms" in d:
                        f.latency_ms = int(d["latency_ms"])
                    if "fail_rate" in d:
                        f.fail_rate = float(d["fail_rate"])
                    if "fail_status" in d:
                        f.fail_status = int(d["fail_status"])
                    if "fail_count" in d:
                        f.fail_count = None if d["fail_count"] is None else int(d["fail_count"])
                    if "drop_connections" in d:
                        f.drop_connections = bool(d["drop_connections"])
                    if "truncate_bodies" in d:
                        f.truncate_bodies = bool(d["truncate_bodies"])
                    if "oversized_bodies" in d:
                        v = d["oversized_bodies"]
                        f.oversized_bodies = (4 << 20) if v is True else int(v or 0)
                    if "reset_mid_body" in d:
                        f.reset_mid_body = bool(d["reset_mid_body"])
                    if "garbage_bodies" in d:
                        v = d["garbage_bodies"]
                        f.garbage_bodies = None if v is None else str(v)
                    if "redirect_loop" in d:
                        f.redirect_loop = bool(d["redirect_loop"])
                    if "paths" in d:
                        f.paths = [str(x).lstrip("/") for x in (d["paths"] or [])]
                    if "standby" in d:
                        f.standby = bool(d["standby"])
                    if "pause_expiry" in d:
                        f.pause_expiry = bool(d["pause_expiry"])
                    if "openai_admin_status" in d:
                        f.openai_admin_status = int(d["openai_admin_status"] or 0)
                    if "rate_limit" in d:
                        rl = d["rate_limit"]
                        if rl is not None and not isinstance(rl, dict):
                            raise user_error("rate_limit must be an object")
                        if rl is not None:
                            rl = dict(rl)
                            rl["interval"] = float(parse_duration(rl["interval"]) if isinstance(rl.get("interval"), str)
                                                   else rl.get("interval", 1.0))
                        f.rate_limit = rl
                        f.window_start = 0.0
                        f.window_count = 0
                return 204, {}, None
        if p == "stats":
            if req.method == "DELETE":
                core.stats.reset()
                return 204, {}, None
            if req.method == "GET":
                return 200, {}, go_json(_envelope_data(core, core.stats.snapshot(core)))
        raise VaultError(404, [])


def _envelope_data(core, data):
    e = S()
    e["request_id"] = new_uuid()
    e["lease_id"] = ""
    e["renewable"] = False
    e["lease_duration"] = 0
    e["data"] = data
    e["wrap_info"] = None
    e["warnings"] = None
    e["auth"] = None
    if core.flavor == "vault":
        e["mount_type"] = "system"
    return e
