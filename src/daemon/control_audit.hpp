// SPDX-License-Identifier: Apache-2.0
// GET /v1/audit?since=N&binding=B&verdict=V[&wait=1]: the kernel's recent decisions from AuditFeed;
// with wait=1 an answer without events is held until one arrives (credgatectl audit --follow).
#pragma once

#include "daemon/app.hpp"
#include "daemon/audit_feed.hpp"
#include "daemon/control_request.hpp"
#include "http/server.hpp"

#include <string>

namespace credgate::daemon {

// GET /v1/audit, decoded by decode_control_request: a page of events, or with `wait` the next one.
void serve_audit(App& app, const control::ReadAudit& command, const http::Responder& respond);

// {"enforcement", "events": [...], "next", "missed", "more"}
std::string audit_page_json(const AuditPage& page, const std::string& enforcement);

}  // namespace credgate::daemon
