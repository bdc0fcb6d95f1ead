# SPDX-License-Identifier: Apache-2.0
# The KV secrets engine, version 1 (flat) and version 2 (versioned data and metadata).
import time

from .backend import Backend, require_ops
from .records import Response
from .wire import VaultError, rfc3339, to_int, unsupported_path, user_error, SYSTEM_DEFAULT_TTL


class KVBackend(Backend):
    type_name = "kv"

    def __init__(self, core, version):
        self.core = core
        self.version = version
        self.store = {}

    # ---- helpers --------------------------------------------------------------------------------
    def _split(self, req):
        p = req.subpath
        if self.version == 1:
            return "", p
        for prefix in ("data", "metadata", "delete", "undelete", "destroy", "config", "subkeys"):
            if p == prefix or p.startswith(prefix + "/"):
                return prefix, p[len(prefix) + 1:]
        return None, p

    def exists(self, req):
        kind, key = self._split(req)
        with self.core.lock:
            if self.version == 1:
                return key in self.store
            if kind == "data":
                e = self.store.get(key)
                return e is not None and bool(e["versions"])
        return None

    def _list(self, prefix):
        keys = set()
        for k in self.store:
            if k.startswith(prefix):
                rest = k[len(prefix):]
                if "/" in rest:
                    keys.add(rest.split("/", 1)[0] + "/")
                elif rest:
                    keys.add(rest)
        if not keys:
            return None
        return Response(data={"keys": sorted(keys)})

    def handle(self, req):
        with self.core.lock:
            if self.version == 1:
                return self._v1(req)
            return self._v2(req)

    # ---- version 1 ------------------------------------------------------------------------------
    def _v1(self, req):
        key = req.subpath
        if req.op == "list":
            return self._list(key if key == "" or key.endswith("/") else key + "/")
        if key == "" or key.endswith("/"):
            raise unsupported_path()
        if req.op == "read":
            data = self.store.get(key)
            if data is None:
                return None
            resp = Response(data=dict(data))
            resp.lease_duration = SYSTEM_DEFAULT_TTL
            return resp
        if req.op == "update":
            if not req.data:
                raise user_error("no data provided")
            self.store[key] = dict(req.data)
            return None
        if req.op == "delete":
            self.store.pop(key, None)
            return None
        raise VaultError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])

    # ---- version 2 ------------------------------------------------------------------------------
    def _meta_of(self, e, v):
        ver = e["versions"][v]
        m = {"created_time": rfc3339(ver["created_time"]), "custom_metadata": e["custom_metadata"],
             "deletion_time": rfc3339(ver["deletion_time"]) if ver["deletion_time"] else "",
             "destroyed": ver["destroyed"], "version": v}
        return m

    def _v2(self, req):
        kind, key = self._split(req)
        if kind is None:
            raise unsupported_path()
        if kind == "config":
            if req.op == "read":
                return Response(data={"cas_required": False, "delete_version_after": "0s", "max_versions": 0})
            return None
        if kind == "metadata" and req.op == "list":
            return self._list(key if key == "" or key.endswith("/") else key + "/")
        if key == "" or key.endswith("/"):
            raise unsupported_path()
        e = self.store.get(key)
        now = time.time()
        if kind == "data":
            if req.op == "read":
                if e is None or not e["versions"]:
                    return None
                v = to_int(req.data.get("version", 0) or 0, "version") or e["current"]
                if v not in e["versions"]:
                    return None
                ver = e["versions"][v]
                meta = self._meta_of(e, v)
                if ver["deletion_time"] or ver["destroyed"]:
                    return Response(data={"data": None, "metadata": meta}, status=404)
                return Response(data={"data": dict(ver["data"]), "metadata": meta})
            if req.op in ("update", "patch"):
                data = req.data.get("data")
                if not isinstance(data, dict):
                    raise user_error("no data provided")
                opts = req.data.get("options") or {}
                if req.op == "patch":
                    if e is None or not e["versions"] or e["versions"][e["current"]]["deletion_time"]:
                        return None
                    merged = dict(e["versions"][e["current"]]["data"])
                    for k, v in data.items():
                        if v is None:
                            merged.pop(k, None)
                        else:
                            merged[k] = v
                    data = merged
                if "cas" in opts:
                    cas = to_int(opts["cas"], "cas")
                    cur = e["current"] if e else 0
                    if cas != cur:
                        raise user_error("check-and-set parameter did not match the current version")
                if e is None:
                    e = {"versions": {}, "current": 0, "custom_metadata": None, "created_time": now}
                    self.store[key] = e
                e["current"] += 1
                e["updated_time"] = now
                e["versions"][e["current"]] = {"data": dict(data), "created_time": now, "deletion_time": None,
                                               "destroyed": False}
                return Response(data=self._meta_of(e, e["current"]))
            if req.op == "delete":
                if e is not None and e["current"] in e["versions"]:
                    e["versions"][e["current"]]["deletion_time"] = now
                return None
        if kind in ("delete", "undelete", "destroy"):
            require_ops(req, "update")
            versions = req.data.get("versions") or []
            if not versions:
                raise user_error("no version number provided")
            if e is not None:
                for v in versions:
                    v = to_int(v, "versions")
                    if v in e["versions"]:
                        ver = e["versions"][v]
                        if kind == "delete":
                            ver["deletion_time"] = now
                        elif kind == "undelete" and not ver["destroyed"]:
                            ver["deletion_time"] = None
                        elif kind == "destroy":
                            ver["destroyed"] = True
                            ver["data"] = {}
            return None
        if kind == "metadata":
            if req.op == "read":
                if e is None:
                    return None
                versions = {str(v): {"created_time": rfc3339(x["created_time"]),
                                     "deletion_time": rfc3339(x["deletion_time"]) if x["deletion_time"] else "",
                                     "destroyed": x["destroyed"]} for v, x in e["versions"].items()}
                return Response(data={"cas_required": False, "created_time": rfc3339(e["created_time"]),
                                      "current_version": e["current"], "custom_metadata": e["custom_metadata"],
                                      "delete_version_after": "0s", "max_versions": 0,
                                      "oldest_version": min(e["versions"]) if e["versions"] else 0,
                                      "updated_time": rfc3339(e.get("updated_time", e["created_time"])),
                                      "versions": versions})
            if req.op == "delete":
                self.store.pop(key, None)
                return None
            if req.op in ("update", "patch"):
                if e is None:
                    e = {"versions": {}, "current": 0, "custom_metadata": None, "created_time": now}
                    self.store[key] = e
                cm = req.data.get("custom_metadata")
                if cm is not None:
                    e["custom_metadata"] = {k: str(v) for k, v in cm.items()}
                return None
        raise VaultError(405, ["1 error occurred:\n\t* unsupported operation\n\n"])
