# SPDX-License-Identifier: Apache-2.0
# A development-only dynamic secrets engine with renewable leases (mount type "devvault-dynamic"),
# so clients can exercise sys/leases/renew against a lease that can be extended.
from .backend import Backend, require_ops
from .records import Response, Secret
from .wire import DurationError, parse_duration, rand62, unsupported_path, user_error


class DynamicBackend(Backend):
    type_name = "devvault-dynamic"

    def __init__(self, core):
        self.core = core
        self.roles = {}
        self.live = {}

    def handle(self, req):
        p = req.subpath
        if p.startswith("roles/"):
            name = p[len("roles/"):].lower()
            if req.op == "read":
                r = self.roles.get(name)
                return Response(data=dict(r)) if r else None
            if req.op == "delete":
                self.roles.pop(name, None)
                return None
            require_ops(req, "update")
            try:
                ttl = parse_duration(req.data.get("ttl", 3600), "ttl") or 3600
                max_ttl = parse_duration(req.data.get("max_ttl", 86400), "max_ttl") or 86400
            except DurationError as e:
                raise user_error(str(e))
            if ttl > max_ttl:
                raise user_error("ttl cannot be greater than max_ttl")
            self.roles[name] = {"ttl": ttl, "max_ttl": max_ttl}
            return None
        if p.startswith("creds/"):
            require_ops(req, "read")
            name = p[len("creds/"):].lower()
            r = self.roles.get(name)
            if r is None:
                raise user_error(f'role "{name}" does not exist')
            username = "v-" + name + "-" + rand62(8)
            self.live[username] = True

            def revoke(internal):
                self.live.pop(internal["username"], None)

            return Response(data={"password": rand62(20), "username": username},
                            secret=Secret(ttl=r["ttl"], max_ttl=r["max_ttl"], renewable=True,
                                          internal={"username": username}, revoke=revoke,
                                          renew=lambda internal, ttl: None))
        raise unsupported_path()
