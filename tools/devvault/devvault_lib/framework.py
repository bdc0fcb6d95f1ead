# SPDX-License-Identifier: Apache-2.0
# What auth/jwt and the OpenAI engine share as framework backends: a config/ path and named roles,
# listed, read and deleted alike; what a write stores is each backend's own.
from .backend import Backend, require_ops
from .records import Response
from .wire import unsupported_path


class FrameworkBackend(Backend):
    """self.config and the roles in self.roles, under self.core.lock. A subclass answers config/
    (config_op), builds what a role update stores (update_role), may narrow what a role read shows
    (role_view) and answers its other paths (handle_other)."""

    role_folder = "roles"  # auth/jwt keeps its roles under role/

    def __init__(self, core):
        self.core = core
        self.config = None
        self.roles = {}
        self.mount = None

    def handle(self, req):
        p = req.subpath
        if p == "config":
            return self.config_op(req)
        if p in (self.role_folder, self.role_folder + "/"):
            return self.list_roles(req)
        if p.startswith(self.role_folder + "/"):
            return self.role_op(req, p[len(self.role_folder) + 1:].lower())
        return self.handle_other(req, p)

    def handle_other(self, req, subpath):
        raise unsupported_path()

    # ---- config ---------------------------------------------------------------------------------
    def config_op(self, req):
        raise NotImplementedError

    def read_config(self, view):
        """A read of config/: nothing (404) until it is written, else view(config)."""
        with self.core.lock:
            c = self.config
        if c is None:
            return None
        return Response(data=view(c))

    # ---- roles ----------------------------------------------------------------------------------
    def list_roles(self, req):
        require_ops(req, "list")
        with self.core.lock:
            keys = sorted(self.roles)
        return Response(data={"keys": keys}) if keys else None

    def role_op(self, req, name):
        if name == "":
            raise unsupported_path()
        if req.op == "read":
            with self.core.lock:
                r = self.roles.get(name)
            if r is None:
                return None
            return Response(data=self.role_view(r))
        if req.op == "delete":
            with self.core.lock:
                self.roles.pop(name, None)
            return None
        require_ops(req, "update")
        with self.core.lock:
            existing = self.roles.get(name)
        r = self.update_role(req, existing)
        with self.core.lock:
            self.roles[name] = r
        return None

    def role_view(self, role):
        return dict(role)

    def update_role(self, req, existing):
        """The role an update of `existing` (None: a new role) stores; raises VaultError."""
        raise NotImplementedError
