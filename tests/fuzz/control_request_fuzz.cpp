// SPDX-License-Identifier: Apache-2.0
// Fuzzes the control API's requests as a whole: the bytes read as the control socket reads a request,
// and split as "method\ntarget\nbody", each decoded (route, binding name, query, body); a refusal must
// be a 400/404/405/413 whose answer is valid JSON, and a command must decode again from its own request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "daemon/control_request.hpp"
#include "http/message.hpp"
#include "policy/values.hpp"

using namespace credgate;
using namespace credgate::daemon;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void check_name(const std::string& name) { check(!policy::object_name_error(name)); }

std::string encoded(std::string_view value) {
    std::string out;
    for (unsigned char c : value) out += fmt::format("%{:02X}", c);
    return out;
}

// The request credgatectl would send for `command`: method, target and no body.
std::pair<std::string, std::string> request_for(const ControlCommand& command) {
    return std::visit(
        [](const auto& c) -> std::pair<std::string, std::string> {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, control::GetStatus>) return {"GET", "/v1/status"};
            else if constexpr (std::is_same_v<T, control::GetBinding>) return {"GET", "/v1/bindings/" + c.name};
            else if constexpr (std::is_same_v<T, control::RotateBinding>)
                return {"POST", "/v1/bindings/" + c.name + "/rotate"};
            else if constexpr (std::is_same_v<T, control::GetIssuer>) return {"GET", "/v1/issuer"};
            else if constexpr (std::is_same_v<T, control::Reload>) return {"POST", "/v1/reload"};
            else if constexpr (std::is_same_v<T, control::Handover>) return {"POST", "/v1/handover"};
            else if constexpr (std::is_same_v<T, control::GetIdentities>) return {"GET", "/v1/identities"};
            else if constexpr (std::is_same_v<T, control::Explain>) {
                std::string target = fmt::format("/v1/explain?pid={}", c.pid);
                if (c.binding) target += "&binding=" + encoded(*c.binding);
                return {"GET", target};
            } else {
                std::string target = fmt::format("/v1/audit?since={}&wait={}", c.since, c.wait ? 1 : 0);
                if (c.binding) target += "&binding=" + encoded(*c.binding);
                if (c.verdict) target += "&verdict=" + encoded(*c.verdict);
                return {"GET", target};
            }
        },
        command);
}

http::ServerRequest request(std::string method, std::string target, std::string body) {
    http::ServerRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    const size_t q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    r.body = std::move(body);
    return r;
}

void check_refusal(const ControlRefusal& refusal) {
    check(refusal.status == 400 || refusal.status == 404 || refusal.status == 405 || refusal.status == 413);
    check((refusal.status == 405) == !refusal.allow.empty());
    check(!refusal.message.empty());
    for (unsigned char c : refusal.message) check(c >= 0x20 && c < 0x7f);
    const auto response = refusal_response(refusal);
    check(response.status == refusal.status);
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(response.body.data(), response.body.size());
    check(!d.HasParseError() && d.IsObject() && d.HasMember("errors") && d["errors"].IsArray() &&
          d["errors"].Size() == 1 && d["errors"][0].IsString() && d["errors"][0].GetString() == refusal.message);
}

void check_command(const ControlCommand& command, const http::ServerRequest& from) {
    std::visit(
        [](const auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, control::GetBinding> || std::is_same_v<T, control::RotateBinding>) {
                check_name(c.name);
            } else if constexpr (std::is_same_v<T, control::Explain>) {
                check(c.pid > 0);
                if (c.binding) check_name(*c.binding);
            } else if constexpr (std::is_same_v<T, control::ReadAudit>) {
                if (c.binding) check_name(*c.binding);
                if (c.verdict) check(*c.verdict == "allow" || *c.verdict == "deny" || *c.verdict == "audit-deny");
            }
        },
        command);
    check(from.body.size() <= kControlMaxBodyBytes);
    auto [method, target] = request_for(command);
    check(method == from.method);
    const auto again = decode_control_request(request(method, target, ""));
    check(again.has_value() && *again == command);
}

void decode(const http::ServerRequest& request) {
    const auto decoded = decode_control_request(request);
    if (decoded) check_command(*decoded, request);
    else check_refusal(decoded.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    // As the control socket reads it (startup.cpp sets its body limit).
    http::ServerOptions options;
    options.max_body_bytes = kControlMaxBodyBytes;
    auto parsed = http::parse_request(bytes, options);
    if (parsed.request) decode(*parsed.request);

    // Any bytes, past what the HTTP parser lets through.
    const size_t nl1 = bytes.find('\n');
    const size_t nl2 = nl1 == std::string_view::npos ? nl1 : bytes.find('\n', nl1 + 1);
    if (nl2 != std::string_view::npos)
        decode(request(std::string(bytes.substr(0, nl1)), std::string(bytes.substr(nl1 + 1, nl2 - nl1 - 1)),
                       std::string(bytes.substr(nl2 + 1))));
    return 0;
}
