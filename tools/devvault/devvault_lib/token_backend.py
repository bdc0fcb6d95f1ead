# SPDX-License-Identifier: Apache-2.0
# The auth/token/ backend: lookup, renew and revoke of the caller's own token (and, for operators,
# of any token), and token creation.
import time

from .backend import Backend, require_ops
from .records import REVOCATION_PENDING, AuthSpec, Response
from .wire import (comma_list, human_duration, parse_duration, rfc3339,
                   to_bool, to_int, unsupported_path, user_error, DurationError, SYSTEM_DEFAULT_TTL,
                   SYSTEM_MAX_TTL)


class TokenBackend(Backend):
    type_name = "token"

    def __init__(self, core):
        self.core = core

    def handle(self, req):
        p = req.subpath.rstrip("/")
        if p == "lookup-self":
            require_ops(req, "read", "update")
            return self.lookup(req.token_entry.id if req.token_entry else "")
        if p == "renew-self":
            require_ops(req, "update")
            return self.renew(req, req.token_entry.id)
        if p == "revoke-self":
            require_ops(req, "update")
            return self.revoke(req.token_entry.id, self_revoke=True)
        if p == "lookup":
            require_ops(req, "update", "read")
            return self.lookup(str(req.data.get("token", "")), explicit=True)
        if p == "lookup-accessor":
            require_ops(req, "update")
            resp = self.lookup(self._accessor_token(req), explicit=True)
            resp.data["id"] = ""
            return resp
        if p == "renew":
            require_ops(req, "update")
            return self.renew(req, self._named_token(req))
        if p in ("revoke", "revoke-orphan"):
            require_ops(req, "update")
            return self.revoke(self._named_token(req), orphan=(p == "revoke-orphan"))
        if p == "revoke-accessor":
            require_ops(req, "update")
            return self.revoke(self._accessor_token(req))
        if p in ("create", "create-orphan"):
            require_ops(req, "update")
            return self.create(req, orphan=(p == "create-orphan"))
        raise unsupported_path()

    @staticmethod
    def _named_token(req):
        """The token ID a request's `token` parameter names."""
        tid = str(req.data.get("token", ""))
        if not tid:
            raise user_error("missing token ID")
        return tid

    def _accessor_token(self, req):
        """The token ID of the accessor a request's `accessor` parameter names."""
        with self.core.lock:
            tid = self.core.accessors.get(str(req.data.get("accessor", "")), "")
        if not tid:
            raise user_error("invalid accessor")
        return tid

    def lookup(self, tid, explicit=False):
        if not tid:
            raise user_error("missing token ID")
        with self.core.lock:
            t = self.core.tokens.get(tid)
            if t is None or (t.expire_time is not None and t.expire_time <= time.time()):
                raise user_error("bad token", status=403)
            now = time.time()
            d = {
                "accessor": t.accessor,
                "creation_time": int(t.creation_time),
                "creation_ttl": int(t.creation_ttl),
                "display_name": t.display_name,
                "entity_id": t.entity_id,
                "expire_time": None,
                "explicit_max_ttl": int(t.explicit_max_ttl),
                "id": t.id,
                "meta": dict(t.meta) if t.meta else None,
                "num_uses": t.num_uses,
                "orphan": t.parent == "",
                "path": t.path,
                "policies": list(t.policies),
                "ttl": 0,
                "type": t.type,
            }
            # Only tokens with a lease (every token but root) report issue/expire times and renewability.
            if t.expire_time is not None:
                d["expire_time"] = rfc3339(t.expire_time)
                d["ttl"] = max(0, int(round(t.expire_time - now)))
                d["renewable"] = t.renewable
                d["issue_time"] = rfc3339(t.creation_time)
            if t.last_renewal is not None:
                d["last_renewal"] = rfc3339(t.last_renewal)
                d["last_renewal_time"] = int(t.last_renewal)
            if t.period:
                d["period"] = t.period
            if t.bound_cidrs:
                d["bound_cidrs"] = list(t.bound_cidrs)
        return Response(data=d)

    def renew(self, req, tid):
        try:
            increment = parse_duration(req.data.get("increment", 0), "increment")
        except DurationError as e:
            raise user_error(str(e))
        with self.core.lock:
            t = self.core.lookup_token(tid)
            if t is None:
                raise user_error("token not found")
            if t.type == "batch":
                raise user_error("batch tokens cannot be renewed")
            if not t.renewable:
                raise user_error("lease is not renewable")
            base_ttl, max_ttl, period = t.creation_ttl, t.max_ttl, t.period
        if t.renew is not None:
            base_ttl, max_ttl, period = t.renew()
        now = time.time()
        warnings = None
        if period:
            ttl = period
        else:
            ttl = increment if increment > 0 else (base_ttl or SYSTEM_DEFAULT_TTL)
            eff_max = min(max_ttl or SYSTEM_MAX_TTL, SYSTEM_MAX_TTL)
            max_valid = t.creation_time + eff_max
            if now >= max_valid:
                raise user_error("past the max TTL, cannot renew")
            remaining = int(max_valid - now)
            if ttl > remaining:
                warnings = [f'TTL of "{human_duration(ttl)}" exceeded the effective max_ttl of '
                            f'"{human_duration(remaining)}"; TTL value is capped accordingly']
                ttl = remaining
        if t.explicit_max_ttl:
            limit = int(t.creation_time + t.explicit_max_ttl - now)
            if ttl > limit:
                ttl = max(0, limit)
        with self.core.lock:
            t.expire_time = now + ttl
            t.last_renewal = now
        resp = Response(warnings=warnings)
        resp.auth_struct = self.core.auth_struct(t, ttl)
        return resp

    def revoke(self, tid, self_revoke=False, orphan=False):
        with self.core.lock:
            t = self.core.tokens.get(tid)
            if t is not None and t.type == "batch":
                raise user_error("batch tokens cannot be revoked")
            if t is None or t.num_uses == REVOCATION_PENDING:
                # Revocation already pending (last use): the core revokes it after this request.
                return None
            if orphan:
                for child in list(t.children):
                    c = self.core.tokens.get(child)
                    if c is not None:
                        c.parent = ""
                t.children.clear()
        self.core.revoke_token(tid)
        return None

    def create(self, req, orphan):
        d = req.data
        parent = req.token_entry
        try:
            ttl = parse_duration(d.get("ttl", d.get("lease", 0)), "ttl")
            explicit = parse_duration(d.get("explicit_max_ttl", 0), "explicit_max_ttl")
            period = parse_duration(d.get("period", 0), "period")
        except DurationError as e:
            raise user_error(str(e))
        policies = comma_list(d.get("policies", []))
        if not policies and parent is not None:
            policies = [p for p in parent.policies]
        ttype = str(d.get("type", "service") or "service")
        if ttype not in ("service", "batch"):
            raise user_error(f"unsupported token type {ttype}")
        num_uses = to_int(d.get("num_uses", 0), "num_uses")
        if num_uses < 0:
            raise user_error("number of uses cannot be negative")
        if ttype == "batch" and num_uses:
            raise user_error("batch tokens cannot have a use limit")
        meta = d.get("meta") or {}
        if not isinstance(meta, dict):
            raise user_error("meta must be a map of strings")
        no_default = to_bool(d.get("no_default_policy", False), "no_default_policy")
        spec = AuthSpec(policies=policies, metadata={k: str(v) for k, v in meta.items()},
                        display_name="token" + (("-" + str(d["display_name"])) if d.get("display_name") else ""),
                        ttl=ttl, max_ttl=0, explicit_max_ttl=explicit, period=period, num_uses=num_uses,
                        token_type=ttype, no_default_policy=no_default)
        spec.with_parent = not orphan and not to_bool(d.get("no_parent", False), "no_parent")
        if not to_bool(d.get("renewable", True), "renewable"):
            spec.renewable = False
        return Response(auth=spec)
