# SPDX-License-Identifier: Apache-2.0
# The interface every mounted backend implements, with the defaults of a framework backend.
from .wire import unsupported_operation


class Backend:
    type_name = ""

    def unauthenticated(self, req):
        """True for login paths, which run without a token."""
        return False

    def needs_sudo(self, req):
        return False

    def handle(self, req):
        """Returns a records.Response, or None (204 for writes, 404 for reads); raises VaultError."""
        raise NotImplementedError

    def on_unmount(self):
        pass


def require_ops(req, *ops):
    if req.op not in ops:
        raise unsupported_operation()
