# SPDX-License-Identifier: Apache-2.0
# The request pipeline every Vault API request goes through: seal, standby, quota, namespace, token
# lookup and use counting, ACL check, the backend, then lease and token registration and the envelope.
from .records import REVOCATION_PENDING
from .wire import (S, VaultError, PERMISSION_DENIED_PLAIN, acl_denied, addr_in_cidrs, go_json, multierror, new_uuid,
                   not_found, user_error)

SECRET_CANNOT_BE_RETURNED = ("Secret cannot be returned; token had one use left, so leased credentials were "
                             "immediately revoked.")


class Pipeline:
    """Runs each Vault API request through the core and the mounted backends. `system` is the sys/
    backend, which also answers sys/health and the development-only sys/devvault/ endpoints."""

    def __init__(self, core, system):
        self.core = core
        self.system = system

    def mount_type_of(self, req):
        if req.mount is None:
            return ""
        return "system" if req.mount.type == "system" else req.mount.type

    def envelope(self, req, resp, lease, mount_type):
        e = S()
        e["request_id"] = new_uuid()
        e["lease_id"] = lease.id if lease else ""
        e["renewable"] = lease.renewable if lease else False
        e["lease_duration"] = int(lease.ttl) if lease else int(resp.lease_duration or 0)
        e["data"] = resp.data
        e["wrap_info"] = None
        e["warnings"] = resp.warnings if resp.warnings else None
        e["auth"] = resp.auth_struct if getattr(resp, "auth_struct", None) is not None else None
        if self.core.flavor == "vault":
            e["mount_type"] = mount_type
        return e

    def error_body(self, err):
        body = {"errors": list(err.errors)}
        if err.data is not None:
            body = S(errors=list(err.errors), data=err.data)
        return go_json(body)

    def invalid_token_error(self):
        if self.core.flavor == "vault":
            return VaultError(403, [multierror(["permission denied", "invalid token"])])
        return PERMISSION_DENIED_PLAIN

    def handle(self, req):
        """Runs one request; returns (status, headers dict, body bytes or None)."""
        headers = {}
        try:
            return self._handle(req)
        except VaultError as e:
            headers.update(e.headers)
            return e.status, headers, self.error_body(e)

    def _handle(self, req):
        core = self.core
        path = req.path
        if path.startswith("sys/devvault/"):
            return self.system.devvault(req)
        exempt = path in ("sys/health", "sys/seal-status", "sys/unseal")
        if path == "sys/health":
            return self.system.health(req)
        if core.sealed and not exempt:
            raise VaultError(503, ["Vault is sealed"])
        if core.faults.standby and not exempt:
            if not core.active_address:
                raise VaultError(503, ["no active Vault instance found"])
            loc = core.active_address.rstrip("/") + "/v1/" + path + (("?" + req.raw_query) if req.raw_query else "")
            body = None
            if req.method in ("GET", "HEAD"):
                body = f'<a href="{loc}">Temporary Redirect</a>.\n\n'.encode()
            return 307, {"Location": loc, "Content-Type": "text/html; charset=utf-8"}, body
        if not exempt:
            core.faults.check_rate_limit(path)
        if req.headers.get("X-Vault-Wrap-TTL"):
            raise user_error("response wrapping is not supported by this development server")
        ns = req.headers.get("X-Vault-Namespace", "").strip("/")
        if ns and ns != "root":
            if core.flavor == "vault":
                raise VaultError(403, ["namespaces feature not enabled"])
            raise VaultError(400, [f'namespace "{ns}/" does not exist'])

        with core.lock:
            mount = core.match_mount(path)
        req.mount = mount
        if mount is not None:
            req.subpath = path[len(mount.path):] if path.startswith(mount.path) else ""
        unauth = exempt or (mount is not None and mount.backend.unauthenticated(req))
        pending = False
        token = None
        if not unauth:
            with core.lock:
                if not req.token:
                    raise PERMISSION_DENIED_PLAIN
                token = core.lookup_token(req.token)
                if token is None:
                    raise self.invalid_token_error()
                if token.bound_cidrs and not addr_in_cidrs(req.remote_addr, token.bound_cidrs):
                    raise PERMISSION_DENIED_PLAIN
                core.use_token(token)
                pending = token.num_uses == REVOCATION_PENDING
            req.token_entry = token
        try:
            if not unauth:
                self._check_acl(req, token, mount)
            if mount is None:
                raise VaultError(404, [f'no handler for route "{path}". route entry not found.'])
            resp = mount.backend.handle(req)
            return self._finish(req, resp, token, pending)
        finally:
            if pending:
                core.revoke_token(token.id)

    def _check_acl(self, req, token, mount):
        core = self.core
        cap = {"read": "read", "update": "update", "delete": "delete", "list": "list", "patch": "patch",
               "header": "read"}.get(req.op, "update")
        if cap == "update" and mount is not None and hasattr(mount.backend, "exists"):
            try:
                if mount.backend.exists(req) is False:
                    cap = "create"
            except VaultError:
                pass
        with core.lock:
            a = core.acl_for(token)
        if not a.allowed(req.path, cap):
            raise acl_denied()
        if mount is not None and mount.backend.needs_sudo(req) and not a.allowed(req.path, "sudo"):
            raise acl_denied()

    def _finish(self, req, resp, token, pending):
        core = self.core
        mount_type = self.mount_type_of(req)
        if resp is None:
            if req.op == "read":
                raise not_found()
            if req.op == "list":
                raise not_found()
            return 204, {}, None
        if resp.raw is not None:
            return resp.raw
        lease = None
        if resp.secret is not None:
            if pending:
                # The token's last use: Vault refuses to hand out a lease that dies with it.
                if resp.secret.revoke is not None:
                    resp.secret.revoke(resp.secret.internal)
                raise user_error(SECRET_CANNOT_BE_RETURNED)
            lease = core.register_lease(req, resp.secret, token)
        if resp.auth is not None:
            parent = token if getattr(resp.auth, "with_parent", False) else None
            t = core.create_token(resp.auth, req.path.rstrip("/"), parent=parent)
            resp.auth_struct = core.auth_struct(t, t.creation_ttl)
            if req.mount is not None and req.mount.is_auth and req.mount.type != "token":
                mount_type = ""
        env = self.envelope(req, resp, lease, mount_type)
        status = resp.status or 200
        if status == 204:
            return 204, resp.headers, None
        return status, resp.headers, go_json(env)
