// SPDX-License-Identifier: Apache-2.0
// The control API's routes: which method each path takes, its path parameter, its query parameters
// and its (empty) body, checked in that order.
#include "daemon/control_request.hpp"

#include "daemon/control_json.hpp"
#include "daemon/control_query.hpp"
#include "policy/values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

namespace credgate::daemon {
namespace {

constexpr std::string_view kBindingsPrefix = "/v1/bindings/";
constexpr std::string_view kRotateSuffix = "/rotate";
constexpr std::string_view kVerdicts[] = {"allow", "deny", "audit-deny"};

using Decoded = std::expected<ControlCommand, ControlRefusal>;

// Request text in a message: printable ASCII as is, any other byte as \xNN, so every refusal is
// valid UTF-8 and a terminal shows it as sent.
std::string shown(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) out += c;
        else out += fmt::format("\\x{:02x}", u);
    }
    return out;
}

ControlRefusal refusal(int status, std::string_view message, std::string allow = {}) {
    return ControlRefusal{status, shown(message), std::move(allow)};
}

std::unexpected<ControlRefusal> refuse(int status, std::string_view message, std::string allow = {}) {
    return std::unexpected(refusal(status, message, std::move(allow)));
}

// A path's route: the one method it takes, the usage named in a 405, and its query parameters.
struct Route {
    std::string_view method;
    std::string_view usage;
    std::initializer_list<std::string_view> params;
};

bool takes(const Route& route, std::string_view name) {
    return std::find(route.params.begin(), route.params.end(), name) != route.params.end();
}

std::string param_list(const Route& route) {
    std::string out;
    for (size_t i = 0; i < route.params.size(); ++i) {
        if (i > 0) out += i + 1 == route.params.size() ? " and " : ", ";
        out += route.params.begin()[i];
    }
    return out;
}

// The decoded query parameters of a request, each at most once and each one the route takes.
struct Query {
    std::vector<std::pair<std::string_view, std::string>> values;

    const std::string* get(std::string_view name) const {
        for (const auto& [n, v] : values)
            if (n == name) return &v;
        return nullptr;
    }
};

std::expected<Query, ControlRefusal> read_query(const Route& route, std::string_view path, std::string_view query) {
    Query out;
    for (auto& p : query_params(query)) {
        if (!takes(route, p.name)) {
            if (route.params.size() == 0)
                return refuse(400,
                              fmt::format("{} {} takes no query parameters; got '{}'", route.method, path, p.name));
            return refuse(400, fmt::format("{} {} takes the query parameters {}; got '{}'", route.method, path,
                                           param_list(route), p.name));
        }
        if (out.get(p.name)) return refuse(400, fmt::format("query parameter '{}' is given twice", p.name));
        if (!p.value)
            return refuse(400, fmt::format("query parameter '{}' is not valid percent-encoding", p.name));
        out.values.emplace_back(p.name, std::move(*p.value));
    }
    return out;
}

// Empty, or a JSON object without members (for clients that always send one).
bool empty_body(std::string_view body) {
    constexpr std::string_view kSpace = " \t\r\n";
    const size_t open = body.find_first_not_of(kSpace);
    if (open == std::string_view::npos) return true;
    if (body[open] != '{') return false;
    const size_t close = body.find_first_not_of(kSpace, open + 1);
    return close != std::string_view::npos && body[close] == '}' &&
           body.find_first_not_of(kSpace, close + 1) == std::string_view::npos;
}

std::optional<ControlRefusal> check_body(const Route& route, std::string_view path, std::string_view body) {
    if (body.size() > kControlMaxBodyBytes)
        return refusal(413,
                       fmt::format("the request's body of {} bytes is over the control API's limit of {} bytes",
                                   body.size(), kControlMaxBodyBytes));
    if (!empty_body(body))
        return refusal(400,
                       fmt::format("{} {} takes no parameters in its body: send none or {{}}", route.method, path));
    return std::nullopt;
}

std::optional<ControlRefusal> check_binding_name(std::string_view name) {
    if (auto error = policy::object_name_error(name)) return refusal(400, "binding " + *error);
    return std::nullopt;
}

// GET /v1/explain: pid=<number> (required), binding=<name>.
Decoded explain(const Query& query) {
    control::Explain command;
    if (const auto* pid = query.get("pid")) {
        auto [end, ec] = std::from_chars(pid->data(), pid->data() + pid->size(), command.pid);
        if (ec != std::errc{} || end != pid->data() + pid->size()) command.pid = 0;
    }
    if (command.pid <= 0) return refuse(400, "give the process as pid=<number>");
    if (const auto* binding = query.get("binding")) {
        if (auto refusal = check_binding_name(*binding)) return std::unexpected(std::move(*refusal));
        command.binding = *binding;
    }
    return command;
}

// GET /v1/audit: since=<event number>, binding=<name>, verdict=allow|deny|audit-deny, wait=0|1.
Decoded audit(const Query& query) {
    control::ReadAudit command;
    if (const auto* verdict = query.get("verdict")) {
        if (std::find(std::begin(kVerdicts), std::end(kVerdicts), *verdict) == std::end(kVerdicts))
            return refuse(400, fmt::format("verdict '{}' is not one of allow, deny, audit-deny", *verdict));
        command.verdict = *verdict;
    }
    if (const auto* binding = query.get("binding")) {
        if (auto refusal = check_binding_name(*binding)) return std::unexpected(std::move(*refusal));
        command.binding = *binding;
    }
    if (const auto* since = query.get("since")) {
        auto [end, ec] = std::from_chars(since->data(), since->data() + since->size(), command.since);
        if (ec != std::errc{} || end != since->data() + since->size())
            return refuse(400, fmt::format("since '{}' is not an event number", *since));
    }
    if (const auto* wait = query.get("wait")) {
        if (*wait != "0" && *wait != "1") return refuse(400, fmt::format("wait '{}' is not 0 or 1", *wait));
        command.wait = *wait == "1";
    }
    return command;
}

// The command of `route` once the request's method, binding name (for a path that names one),
// query and body are checked, in that order.
Decoded route_request(const http::ServerRequest& req, const Route& route, std::optional<std::string_view> name,
                      auto&& decode) {
    if (req.method != route.method)
        return refuse(405, fmt::format("use {}", route.usage), std::string(route.method));
    if (name)
        if (auto refusal = check_binding_name(*name)) return std::unexpected(std::move(*refusal));
    auto query = read_query(route, req.path, req.query);
    if (!query) return std::unexpected(std::move(query.error()));
    if (auto refusal = check_body(route, req.path, req.body)) return std::unexpected(std::move(*refusal));
    return decode(*query);
}

}  // namespace

std::expected<ControlCommand, ControlRefusal> decode_control_request(const http::ServerRequest& req) {
    const std::string_view path = req.path;
    auto fixed = [](auto command) { return [command](const Query&) -> Decoded { return command; }; };
    auto named = [](std::string_view name, auto command) {
        command.name = std::string(name);
        return [command](const Query&) -> Decoded { return command; };
    };

    if (path == "/v1/status")
        return route_request(req, {"GET", "GET /v1/status", {}}, std::nullopt, fixed(control::GetStatus{}));
    if (path.starts_with(kBindingsPrefix) && path.ends_with(kRotateSuffix) &&
        path.size() > kBindingsPrefix.size() + kRotateSuffix.size()) {
        const auto name =
            path.substr(kBindingsPrefix.size(), path.size() - kBindingsPrefix.size() - kRotateSuffix.size());
        return route_request(req, {"POST", "POST /v1/bindings/<name>/rotate", {}}, name,
                             named(name, control::RotateBinding{}));
    }
    if (path.starts_with(kBindingsPrefix)) {
        const auto name = path.substr(kBindingsPrefix.size());
        return route_request(req, {"GET", "GET /v1/bindings/<name>", {}}, name, named(name, control::GetBinding{}));
    }
    if (path == "/v1/issuer")
        return route_request(req, {"GET", "GET /v1/issuer", {}}, std::nullopt, fixed(control::GetIssuer{}));
    if (path == "/v1/reload")
        return route_request(req, {"POST", "POST /v1/reload", {}}, std::nullopt, fixed(control::Reload{}));
    if (path == "/v1/handover")
        return route_request(req, {"POST", "POST /v1/handover", {}}, std::nullopt, fixed(control::Handover{}));
    if (path == "/v1/identities")
        return route_request(req, {"GET", "GET /v1/identities", {}}, std::nullopt, fixed(control::GetIdentities{}));
    if (path == "/v1/explain")
        return route_request(req, {"GET", "GET /v1/explain?pid=<pid>[&binding=<name>]", {"pid", "binding"}},
                             std::nullopt, explain);
    if (path == "/v1/audit")
        return route_request(req, {"GET", "GET /v1/audit", {"since", "binding", "verdict", "wait"}}, std::nullopt,
                             audit);
    return refuse(404, fmt::format("no such endpoint: {} {}", req.method, req.path));
}

http::ServerResponse refusal_response(const ControlRefusal& refusal) {
    auto response = control_json::error_response(refusal.status, refusal.message);
    if (!refusal.allow.empty()) response.headers.emplace_back("Allow", refusal.allow);
    return response;
}

}  // namespace credgate::daemon
