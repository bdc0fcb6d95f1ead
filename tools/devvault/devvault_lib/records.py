# SPDX-License-Identifier: Apache-2.0
# The records the core and the backends pass to each other: a request, a backend's response with the
# lease (Secret) or login (AuthSpec) it asks for, and the token, lease and mount entries the core keeps.
import time
import uuid

from .wire import new_uuid

# Token.num_uses of a token whose last use is under way: it is revoked when that request ends.
REVOCATION_PENDING = -1


class Request:
    def __init__(self, method, path, query, data, token, headers, remote_addr, raw_query=""):
        self.method = method
        self.path = path
        self.query = query
        self.data = data
        self.token = token
        self.headers = headers
        self.remote_addr = remote_addr
        self.raw_query = raw_query
        self.op = {"GET": "read", "POST": "update", "PUT": "update", "DELETE": "delete", "LIST": "list",
                   "PATCH": "patch", "HEAD": "header"}.get(method, "unknown")
        if method == "GET" and str(query.get("list", "")).lower() in ("true", "1", "t"):
            self.op = "list"
            self.data = {k: v for k, v in data.items() if k != "list"}
        self.mount = None
        self.subpath = ""
        self.token_entry = None


class Secret:
    """resp.Secret of a backend response: a lease to register."""

    def __init__(self, ttl, max_ttl, renewable, internal, revoke, renew=None):
        self.ttl = ttl
        self.max_ttl = max_ttl
        self.renewable = renewable
        self.internal = internal
        self.revoke = revoke
        self.renew = renew


class AuthSpec:
    """resp.Auth of a login: what the token store turns into a token."""

    def __init__(self, policies, metadata, display_name, ttl=0, max_ttl=0, explicit_max_ttl=0, period=0,
                 num_uses=0, token_type="service", no_default_policy=False, bound_cidrs=None, alias=None,
                 renew=None, mount_accessor=""):
        self.policies = policies
        self.metadata = metadata
        self.display_name = display_name
        self.ttl = ttl
        self.max_ttl = max_ttl
        self.explicit_max_ttl = explicit_max_ttl
        self.period = period
        self.num_uses = num_uses
        self.token_type = token_type
        self.no_default_policy = no_default_policy
        self.bound_cidrs = bound_cidrs or []
        self.alias = alias
        self.renew = renew
        self.mount_accessor = mount_accessor


class Response:
    def __init__(self, data=None, secret=None, auth=None, warnings=None, status=None, raw=None, headers=None):
        self.data = data
        self.secret = secret
        self.auth = auth
        self.warnings = warnings
        self.status = status
        self.raw = raw  # (status, headers, body bytes) written as is
        self.headers = headers or {}
        self.lease = None
        self.token = None
        self.lease_duration = None  # TTL shown without a lease (KV v1)


class Token:
    def __init__(self):
        self.id = ""
        self.accessor = ""
        self.policies = []
        self.token_policies = []
        self.meta = {}
        self.display_name = ""
        self.num_uses = 0
        self.creation_time = time.time()
        self.creation_ttl = 0
        self.max_ttl = 0
        self.explicit_max_ttl = 0
        self.period = 0
        self.expire_time = None
        self.type = "service"
        self.path = ""
        self.parent = ""
        self.children = set()
        self.entity_id = ""
        self.renewable = True
        self.bound_cidrs = []
        self.renew = None
        self.last_renewal = None
        self.leases = set()


class Lease:
    def __init__(self):
        self.id = ""
        self.path = ""
        self.token_id = ""
        self.issue_time = time.time()
        self.expire_time = None
        self.last_renewal = None
        self.ttl = 0
        self.max_ttl = 0
        self.renewable = False
        self.secret = None
        self.is_token = False


class Mount:
    def __init__(self, path, type_name, backend, options=None, description="", is_auth=False):
        self.path = path  # with trailing slash, e.g. "openai/" or "auth/jwt/"
        self.type = type_name
        self.backend = backend
        self.options = options
        self.description = description
        self.is_auth = is_auth
        self.accessor = f"{'auth' if is_auth else ''}{'_' if is_auth else ''}{type_name}_{uuid.uuid4().hex[:8]}"
        self.uuid = new_uuid()
