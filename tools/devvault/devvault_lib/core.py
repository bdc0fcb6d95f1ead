# SPDX-License-Identifier: Apache-2.0
# The in-memory Vault core: mounts, policies and ACLs, tokens and leases, and the sweeper that expires
# them. It knows no backend: the entry point mounts the built-in ones, and the request pipeline
# (pipeline.py) runs each request against it.
import hashlib
import sys
import threading
import time
import uuid

from . import acl as aclmod
from .faults import Faults
from .records import REVOCATION_PENDING, Lease, Token
from .stats import Stats
from .wire import S, SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL, new_uuid, rand62, sanitize_policies

SWEEP_INTERVAL_S = 0.05


class Core:
    def __init__(self, flavor="openbao", root_token=None, active_address=None, openai_store=None):
        self.flavor = flavor
        self.lock = threading.RLock()
        self.sealed = False
        self.active_address = active_address
        self.tokens = {}
        self.accessors = {}
        self.leases = {}
        self.mounts = {}
        self.policies = {}
        self.policy_text = {}
        self.faults = Faults(self.lock)
        self.stats = Stats()
        self.openai_store = openai_store
        self.cluster_name = "vault-cluster-" + uuid.uuid4().hex[:8]
        self.cluster_id = new_uuid()
        self.stop_event = threading.Event()
        self.set_policy("default", aclmod.DEFAULT_POLICY)
        root = Token()
        root.id = root_token or ("hvs." + rand62(24))
        root.accessor = rand62(24)
        root.policies = ["root"]
        root.token_policies = ["root"]
        root.display_name = "root"
        root.path = "auth/token/root"
        root.renewable = False
        self.root_token = root.id
        self.tokens[root.id] = root
        self.accessors[root.accessor] = root.id
        self.sweeper = threading.Thread(target=self._sweep_loop, name="devvault-sweeper", daemon=True)
        self.sweeper.start()

    # ---- policies -------------------------------------------------------------------------------
    def set_policy(self, name, text):
        rules = aclmod.parse_policy(name, text)
        with self.lock:
            self.policies[name] = rules
            self.policy_text[name] = text

    def acl_for(self, token):
        if "root" in token.policies:
            a = aclmod.ACL([])
            a.root = True
            return a
        return aclmod.ACL([self.policies[p] for p in token.policies if p in self.policies])

    # ---- mounts ---------------------------------------------------------------------------------
    def mount(self, m):
        """Mounts the backend of the records.Mount `m` at m.path."""
        with self.lock:
            self.mounts[m.path] = m

    def match_mount(self, path):
        best = None
        for mpath, m in self.mounts.items():
            if path.startswith(mpath) or path + "/" == mpath:
                if best is None or len(mpath) > len(best.path):
                    best = m
        return best

    # ---- tokens ---------------------------------------------------------------------------------
    def lookup_token(self, token_id, allow_pending=False):
        t = self.tokens.get(token_id)
        if t is None:
            return None
        if t.num_uses == REVOCATION_PENDING and not allow_pending:
            return None
        if t.expire_time is not None and t.expire_time <= time.time():
            return None
        return t

    def create_token(self, spec, path, parent=None):
        """LoginCreateToken/RegisterAuth (and auth/token/create): returns the new Token."""
        now = time.time()
        t = Token()
        batch = spec.token_type == "batch"
        t.type = "batch" if batch else "service"
        t.id = ("hvb." if batch else "hvs.") + rand62(24 if not batch else 40)
        t.accessor = "" if batch else rand62(24)
        t.token_policies = sanitize_policies(spec.policies, not spec.no_default_policy)
        t.policies = list(t.token_policies)
        t.meta = dict(spec.metadata or {})
        t.display_name = spec.display_name
        t.num_uses = spec.num_uses
        t.creation_time = now
        max_ttl = spec.max_ttl or SYSTEM_MAX_TTL
        max_ttl = min(max_ttl, SYSTEM_MAX_TTL)
        if spec.explicit_max_ttl:
            max_ttl = min(max_ttl, spec.explicit_max_ttl)
        ttl = spec.period or spec.ttl or SYSTEM_DEFAULT_TTL
        ttl = min(ttl, max_ttl) if not spec.period else ttl
        if spec.explicit_max_ttl:
            ttl = min(ttl, spec.explicit_max_ttl)
        t.creation_ttl = ttl
        t.max_ttl = spec.max_ttl
        t.explicit_max_ttl = spec.explicit_max_ttl
        t.period = spec.period
        t.expire_time = now + ttl
        t.path = path
        t.renewable = not batch and getattr(spec, "renewable", True)
        t.bound_cidrs = spec.bound_cidrs
        t.renew = spec.renew
        if spec.alias is not None:
            t.entity_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.mount_accessor}/{spec.alias}"))
        with self.lock:
            if parent is not None and parent.id in self.tokens:
                t.parent = parent.id
                parent.children.add(t.id)
            self.tokens[t.id] = t
            if t.accessor:
                self.accessors[t.accessor] = t.id
        return t

    def auth_struct(self, t, lease_duration):
        a = S()
        a["client_token"] = t.id
        a["accessor"] = t.accessor
        a["policies"] = list(t.policies)
        if t.token_policies:
            a["token_policies"] = list(t.token_policies)
        a["metadata"] = dict(t.meta) if t.meta else None
        a["lease_duration"] = int(lease_duration)
        a["renewable"] = t.renewable
        a["entity_id"] = t.entity_id
        a["token_type"] = t.type
        a["orphan"] = t.parent == ""
        a["mfa_requirement"] = None
        a["num_uses"] = max(t.num_uses, 0)
        return a

    def revoke_token(self, token_id):
        """revokeInternal: the token, its children and every lease created with them."""
        with self.lock:
            t = self.tokens.pop(token_id, None)
            if t is None:
                return
            if t.accessor:
                self.accessors.pop(t.accessor, None)
            if t.parent and t.parent in self.tokens:
                self.tokens[t.parent].children.discard(t.id)
            for child in list(t.children):
                self.revoke_token(child)
            for lease_id in list(t.leases):
                self.revoke_lease(lease_id)

    @staticmethod
    def token_lease_id(t):
        """The lease id Vault gives a service token: its creation path and a hash of the token."""
        return f"{t.path}/h{hashlib.sha256(t.id.encode()).hexdigest()[:40]}"

    def token_by_lease_id(self, lease_id):
        if "/h" not in lease_id:
            return None
        for t in self.tokens.values():
            if t.expire_time is not None and t.type == "service" and self.token_lease_id(t) == lease_id:
                return t
        return None

    def use_token(self, t):
        if t.num_uses == 0:
            return
        if t.num_uses == 1:
            t.num_uses = REVOCATION_PENDING
        else:
            t.num_uses -= 1

    # ---- leases ---------------------------------------------------------------------------------
    def register_lease(self, req, secret, token):
        now = time.time()
        lease = Lease()
        lease.id = req.path.rstrip("/") + "/" + rand62(24)
        lease.path = req.path
        lease.issue_time = now
        max_ttl = secret.max_ttl or SYSTEM_MAX_TTL
        max_ttl = min(max_ttl, SYSTEM_MAX_TTL)
        ttl = secret.ttl or SYSTEM_DEFAULT_TTL
        ttl = min(ttl, max_ttl)
        lease.ttl = ttl
        lease.max_ttl = max_ttl
        lease.expire_time = now + ttl
        lease.renewable = secret.renewable
        lease.secret = secret
        with self.lock:
            if token is not None and token.type == "batch":
                # Leases created by batch tokens are constrained to the remaining TTL of the token.
                if token.expire_time is not None and token.expire_time < lease.expire_time:
                    lease.expire_time = token.expire_time
                    lease.ttl = max(0, int(round(token.expire_time - now)))
            elif token is not None:
                lease.token_id = token.id
                token.leases.add(lease.id)
            self.leases[lease.id] = lease
        return lease

    def revoke_lease(self, lease_id):
        with self.lock:
            lease = self.leases.pop(lease_id, None)
            if lease is None:
                return
            t = self.tokens.get(lease.token_id)
            if t is not None:
                t.leases.discard(lease_id)
        if lease.secret is not None and lease.secret.revoke is not None:
            lease.secret.revoke(lease.secret.internal)

    def revoke_prefix(self, prefix):
        with self.lock:
            ids = [lid for lid in self.leases if lid.startswith(prefix)]
        for lid in ids:
            self.revoke_lease(lid)

    # ---- sweeper --------------------------------------------------------------------------------
    def sweep(self):
        now = time.time()
        with self.lock:
            if self.sealed or self.faults.pause_expiry:
                # The expiration manager stops while sealed; expired entries go at unseal.
                return
            expired_tokens = [t.id for t in self.tokens.values() if t.expire_time is not None and t.expire_time <= now]
            for tid in expired_tokens:
                self.revoke_token(tid)
            expired_leases = [l.id for l in self.leases.values() if l.expire_time is not None and l.expire_time <= now]
            for lid in expired_leases:
                self.revoke_lease(lid)

    def _sweep_loop(self):
        while not self.stop_event.wait(SWEEP_INTERVAL_S):
            try:
                self.sweep()
            except Exception as e:  # keep sweeping; report each failure
                print(f"devvault: Failed to sweep expired tokens and leases: {e}", file=sys.stderr, flush=True)
