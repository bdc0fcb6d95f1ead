# SPDX-License-Identifier: Apache-2.0
# ACL policies: the HCL (and JSON) policy text, and path matching with `*` and `+` globs in
# Vault's priority order.
import json
import re

from .wire import VaultError

CAPABILITIES = {"create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe", "recover"}

# The built-in `default` policy, reduced to the grants a workload token uses.
DEFAULT_POLICY = """# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to renew a lease via lease_id in the request body
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}
"""

_TOKEN_RE = re.compile(r'\s+|#[^\n]*|//[^\n]*|/\*.*?\*/|"(?:[^"\\]|\\.)*"|[{}\[\]=,]|[A-Za-z_][A-Za-z0-9_\-]*|-?[0-9]+', re.S)


def _tokens(text):
    pos = 0
    out = []
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise ValueError(f"unexpected character {text[pos]!r} at offset {pos}")
        t = m.group(0)
        pos = m.end()
        if t.isspace() or t.startswith("#") or t.startswith("//") or t.startswith("/*"):
            continue
        out.append(t)
    return out


def _parse_value(toks, i):
    t = toks[i]
    if t == "[":
        vals = []
        i += 1
        while toks[i] != "]":
            v, i = _parse_value(toks, i)
            vals.append(v)
            if toks[i] == ",":
                i += 1
        return vals, i + 1
    if t == "{":
        return _parse_block(toks, i + 1)
    if t.startswith('"'):
        return json.loads(t), i + 1
    return t, i + 1


def _parse_block(toks, i):
    body = {}
    while toks[i] != "}":
        key = toks[i]
        if key.startswith('"'):
            key = json.loads(key)
        i += 1
        if toks[i] == "=":
            v, i = _parse_value(toks, i + 1)
            body[key] = v
        elif toks[i].startswith('"'):
            label = json.loads(toks[i])
            if toks[i + 1] != "{":
                raise ValueError(f"expected '{{' after {key} \"{label}\"")
            v, i = _parse_block(toks, i + 2)
            body.setdefault(key, []).append((label, v))
        elif toks[i] == "{":
            v, i = _parse_block(toks, i + 1)
            body[key] = v
        else:
            raise ValueError(f"unexpected token {toks[i]!r} after {key!r}")
        if i < len(toks) and toks[i] == ",":
            i += 1
    return body, i + 1


def parse_policy(name, text):
    """Returns [(path pattern, set of capabilities)] or raises VaultError(400)."""
    try:
        stripped = text.strip()
        rules = []
        if stripped.startswith("{"):
            doc = json.loads(stripped)
            paths = doc.get("path", {})
            items = paths.items() if isinstance(paths, dict) else []
            for pattern, body in items:
                rules.append((pattern, body))
        else:
            toks = _tokens(text) + ["}"]
            body, _ = _parse_block(toks, 0)
            for key in body:
                if key != "path":
                    raise ValueError(f"invalid key {key!r}")
            for pattern, b in body.get("path", []):
                rules.append((pattern, b))
        out = []
        for pattern, b in rules:
            caps = b.get("capabilities", []) if isinstance(b, dict) else []
            if "policy" in b and not caps:
                legacy = {"deny": ["deny"], "read": ["read", "list"], "write": ["create", "read", "update", "delete", "list"],
                          "sudo": ["create", "read", "update", "delete", "list", "sudo"]}
                caps = legacy.get(b["policy"], [])
            for c in caps:
                if c not in CAPABILITIES:
                    raise ValueError(f'path "{pattern}": invalid capability "{c}"')
            out.append((pattern.lstrip("/"), set(caps)))
        return out
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as e:
        raise VaultError(400, [f"failed to parse policy: {e}"])


def _priority(pattern):
    """Sort key: larger is higher priority (Vault docs, 'Priority matching')."""
    first = len(pattern)
    for ch in ("*", "+"):
        idx = pattern.find(ch)
        if idx >= 0:
            first = min(first, idx)
    return (first, 0 if pattern.endswith("*") else 1, -pattern.split("/").count("+"), len(pattern), pattern)


def _glob_match(pattern, path):
    if "+" not in pattern and not pattern.endswith("*"):
        return pattern == path
    prefix = pattern.endswith("*")
    pat = pattern[:-1] if prefix else pattern
    psegs = pat.split("/")
    segs = path.split("/")
    if prefix:
        # every segment before the last must match exactly or by `+`; the last is a prefix.
        if len(segs) < len(psegs):
            return False
        for i, ps in enumerate(psegs):
            if i == len(psegs) - 1:
                rest = "/".join(segs[i:])
                return True if ps == "+" else rest.startswith(ps)
            if ps != "+" and ps != segs[i]:
                return False
        return True
    if len(segs) != len(psegs):
        return False
    return all(ps == "+" or ps == s for ps, s in zip(psegs, segs))


class ACL:
    """The merged rules of a token's policies."""

    def __init__(self, policies):
        self.root = False
        self.rules = {}
        for rules in policies:
            for pattern, caps in rules:
                cur = self.rules.setdefault(pattern, set())
                cur |= caps

    def capabilities(self, path):
        if self.root:
            return ["root"]
        caps = self.rules.get(path)
        if caps is None:
            best = None
            for pattern in self.rules:
                if ("*" in pattern or "+" in pattern) and _glob_match(pattern, path):
                    if best is None or _priority(pattern) > _priority(best):
                        best = pattern
            caps = self.rules.get(best, set()) if best else set()
        if "deny" in caps:
            return ["deny"]
        return sorted(caps) if caps else ["deny"]

    def allowed(self, path, capability):
        caps = self.capabilities(path)
        return "root" in caps or capability in caps
