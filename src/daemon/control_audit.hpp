// SPDX-License-Identifier: Apache-2.0
// GET /v1/audit?since=N&binding=B&verdict=V[&wait=1]: the kernel's recent decisions from AuditFeed;
// with wait=1 an answer without events is held until one arrives (credgatectl audit --follow).
#pragma once

#include "daemon/app.hpp"
#include "daemon/audit_feed.hpp"
#include "http/server.hpp"

#include <string>

namespace credgate::daemon {

// Answers the request when its path is /v1/audit; false leaves it to the caller.
bool serve_audit(App& app, const http::ServerRequest& request, const http::Responder& respond);

// {"enforcement", "events": [...], "next", "missed", "more"}
std::string audit_page_json(const AuditPage& page, const std::string& enforcement);

}  // namespace credgate::daemon
