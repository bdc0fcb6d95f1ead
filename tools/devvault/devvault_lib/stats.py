# SPDX-License-Identifier: Apache-2.0
# Request statistics of both listeners and the live object counts, served by sys/devvault/stats.
import threading

from .records import REVOCATION_PENDING


class Stats:
    """Request counts per path and method, for tests that bound what a client sends."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.vault = {}
            self.openai = {}

    def count(self, listener, path, method):
        with self.lock:
            table = self.vault if listener == "vault" else self.openai
            per = table.setdefault(path, {})
            per[method] = per.get(method, 0) + 1

    def snapshot(self, core):
        with self.lock:
            vault = {p: dict(m) for p, m in self.vault.items()}
            openai = {p: dict(m) for p, m in self.openai.items()}
        with core.lock:
            tokens = sum(1 for t in core.tokens.values() if t.id != core.root_token and t.num_uses != REVOCATION_PENDING)
            leases = len(core.leases)
        keys = core.openai_store.live_keys() if core.openai_store is not None else 0
        return {"requests": vault, "openai_requests": openai, "live_tokens": tokens, "live_leases": leases,
                "live_openai_keys": keys}
