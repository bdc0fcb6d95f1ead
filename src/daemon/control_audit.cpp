// SPDX-License-Identifier: Apache-2.0
// The audit endpoint: the binding filter checked, a page read from AuditFeed, or a wait for the next event.
#include "daemon/control_audit.hpp"

#include "daemon/control_json.hpp"
#include "protection/protection.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace credgate::daemon {
namespace {

using namespace control_json;

}  // namespace

void serve_audit(App& app, const control::ReadAudit& command, const http::Responder& respond) {
    AuditFilter filter;
    if (command.verdict) filter.verdict = *command.verdict;
    auto& feed = app.audit();
    if (const auto& b = command.binding) {
        const auto defs = app.definitions();
        const bool defined = std::any_of(defs.begin(), defs.end(),
                                         [&](const policy::BindingDefinition& d) { return d.binding.meta.name == *b; });
        if (!defined && !feed.names_binding(*b))
            return respond(
                error_response(404, fmt::format("credgated has no binding named '{}' and no recent event names one", *b)));
        filter.binding = *b;
    }
    const std::string enforcement = protection::to_string(app.protection().mode());
    auto page = feed.read(command.since, filter);
    if (!page.events.empty() || page.missed > 0 || !command.wait)
        return respond(json_response(200, audit_page_json(page, enforcement)));
    // Nothing yet: answered by the next matching event, or empty after kAuditWaitMax.
    const bool waiting = feed.wait(page.next, filter, [respond, enforcement](AuditPage later) {
        respond(json_response(200, audit_page_json(later, enforcement)));
    });
    if (!waiting)
        respond(error_response(503, fmt::format("{} audit readers are already following; try again later",
                                                kAuditMaxWaiters)));
}


std::string audit_page_json(const AuditPage& page, const std::string& enforcement) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    str(w, "enforcement", enforcement);
    key(w, "events");
    w.StartArray();
    for (const auto& e : page.events) w.RawValue(e.json.data(), e.json.size(), rapidjson::kObjectType);
    w.EndArray();
    u64(w, "next", page.next);
    u64(w, "missed", page.missed);
    boolean(w, "more", page.more);
    w.EndObject();
    return sb.GetString();
}

}  // namespace credgate::daemon
