# SPDX-License-Identifier: Apache-2.0
# Fault injection on the Vault listener: the faults in force, the path globs that select the requests
# they hit, and the simulated rate limit quota.
import math
import re
import time

from .wire import VaultError


class Faults:
    """The faults injected into the Vault listener, set through sys/devvault/faults."""

    def __init__(self, lock):
        self.lock = lock  # the core's lock, which guards every field
        self.clear()

    def clear(self):
        self.latency_ms = 0
        self.fail_rate = 0.0
        self.fail_status = 500
        self.fail_count = None
        self.drop_connections = False
        self.truncate_bodies = False
        self.oversized_bodies = 0
        self.reset_mid_body = False
        self.garbage_bodies = None
        self.redirect_loop = False
        self.paths = []
        self.standby = False
        self.rate_limit = None
        self.openai_admin_status = 0
        self.pause_expiry = False
        self.window_start = 0.0
        self.window_count = 0

    def as_dict(self):
        return {"latency_ms": self.latency_ms, "fail_rate": self.fail_rate, "fail_status": self.fail_status,
                "fail_count": self.fail_count, "drop_connections": self.drop_connections,
                "truncate_bodies": self.truncate_bodies, "oversized_bodies": self.oversized_bodies,
                "reset_mid_body": self.reset_mid_body, "garbage_bodies": self.garbage_bodies,
                "redirect_loop": self.redirect_loop,
                "paths": self.paths, "standby": self.standby, "rate_limit": self.rate_limit,
                "openai_admin_status": self.openai_admin_status, "pause_expiry": self.pause_expiry}

    def check_rate_limit(self, path):
        """The simulated rate limit quota: raises 429 when the request over `path` exceeds it."""
        rl = self.rate_limit
        if not rl:
            return
        pats = rl.get("paths") or []
        if pats and not any(path_glob_match(p, path) for p in pats):
            return
        limit = int(rl.get("rate", 1))
        interval = float(rl.get("interval", 1.0))
        now = time.time()
        with self.lock:
            if now - self.window_start >= interval:
                self.window_start = now
                self.window_count = 0
            self.window_count += 1
            count = self.window_count
            reset = self.window_start + interval - now
        if count > limit:
            headers = {}
            if rl.get("headers", True):
                headers = {"Retry-After": str(max(1, math.ceil(reset))), "X-Ratelimit-Limit": str(limit),
                           "X-Ratelimit-Remaining": "0",
                           "X-Ratelimit-Reset": str(int(time.time() + reset))}
            raise VaultError(429, [f'request path "{path}": rate limit quota exceeded'], headers=headers)


def path_glob_match(pattern, path):
    """Fault path globs: `*` matches any run of characters (including `/`), `+` one path segment."""
    rx = ""
    for ch in pattern:
        if ch == "*":
            rx += ".*"
        elif ch == "+":
            rx += "[^/]+"
        else:
            rx += re.escape(ch)
    return re.fullmatch(rx, path) is not None
