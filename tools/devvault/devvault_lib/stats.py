# SPDX-License-Identifier: Apache-2.0
# Request statistics of both listeners and the live object counts, served by sys/devvault/stats.
import threading
import time

from .records import REVOCATION_PENDING


# Seconds of per-second Vault request counts kept (older seconds are dropped).
PER_SECOND_KEEP = 7200


class Stats:
    """Request counts per path and method, for tests that bound what a client sends, and Vault
    requests per wall-clock second, for benchmarks that measure a client's request rate."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.vault = {}
            self.openai = {}
            self.per_second = {}

    def count(self, listener, path, method):
        with self.lock:
            table = self.vault if listener == "vault" else self.openai
            per = table.setdefault(path, {})
            per[method] = per.get(method, 0) + 1
            if listener == "vault":
                second = int(time.time())
                self.per_second[second] = self.per_second.get(second, 0) + 1
                if len(self.per_second) > PER_SECOND_KEEP:
                    for old in sorted(self.per_second)[:len(self.per_second) - PER_SECOND_KEEP]:
                        del self.per_second[old]

    def snapshot(self, core):
        with self.lock:
            vault = {p: dict(m) for p, m in self.vault.items()}
            openai = {p: dict(m) for p, m in self.openai.items()}
            per_second = {str(t): n for t, n in sorted(self.per_second.items())}
        with core.lock:
            tokens = sum(1 for t in core.tokens.values() if t.id != core.root_token and t.num_uses != REVOCATION_PENDING)
            leases = len(core.leases)
        keys = core.openai_store.live_keys() if core.openai_store is not None else 0
        return {"requests": vault, "requests_per_second": per_second, "openai_requests": openai,
                "live_tokens": tokens, "live_leases": leases, "live_openai_keys": keys}
