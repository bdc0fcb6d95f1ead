// SPDX-License-Identifier: Apache-2.0
// The audit endpoint: filters checked, a page read from AuditFeed, or a wait for the next event.
#include "daemon/control_audit.hpp"

#include "daemon/control_json.hpp"
#include "daemon/control_query.hpp"
#include "protection/protection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace credgate::daemon {
namespace {

using namespace control_json;

constexpr const char* kVerdicts[] = {"allow", "deny", "audit-deny"};

void serve(App& app, const http::ServerRequest& req, const http::Responder& respond) {
    AuditFilter filter;
    if (auto v = query_param(req.query, "verdict")) {
        if (std::none_of(std::begin(kVerdicts), std::end(kVerdicts), [&](const char* k) { return *v == k; }))
            return respond(error_response(400, fmt::format("verdict '{}' is not one of allow, deny, audit-deny", *v)));
        filter.verdict = *v;
    }
    auto& feed = app.audit();
    if (auto b = query_param(req.query, "binding")) {
        const auto defs = app.definitions();
        const bool defined = std::any_of(defs.begin(), defs.end(),
                                         [&](const policy::BindingDefinition& d) { return d.binding.meta.name == *b; });
        if (!defined && !feed.names_binding(*b))
            return respond(
                error_response(404, fmt::format("credgated has no binding named '{}' and no recent event names one", *b)));
        filter.binding = *b;
    }
    uint64_t since = 0;
    if (auto s = query_param(req.query, "since")) {
        auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), since);
        if (ec != std::errc{} || end != s->data() + s->size())
            return respond(error_response(400, fmt::format("since '{}' is not an event number", *s)));
    }
    const std::string enforcement = protection::to_string(app.protection().mode());
    auto page = feed.read(since, filter);
    if (!page.events.empty() || page.missed > 0 || query_param(req.query, "wait") != "1")
        return respond(json_response(200, audit_page_json(page, enforcement)));
    // Nothing yet: answered by the next matching event, or empty after kAuditWaitMax.
    const bool waiting = feed.wait(page.next, filter, [respond, enforcement](AuditPage later) {
        respond(json_response(200, audit_page_json(later, enforcement)));
    });
    if (!waiting)
        respond(error_response(503, fmt::format("{} audit readers are already following; try again later",
                                                kAuditMaxWaiters)));
}

}  // namespace

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

bool serve_audit(App& app, const http::ServerRequest& req, const http::Responder& respond) {
    if (req.path != "/v1/audit") return false;
    if (req.method != "GET") respond(error_response(405, "use GET /v1/audit"));
    else serve(app, req, respond);
    return true;
}

}  // namespace credgate::daemon
