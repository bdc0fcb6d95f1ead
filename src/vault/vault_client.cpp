// SPDX-License-Identifier: Apache-2.0
// Vault/OpenBao requests: building them (paths, headers, bodies) and mapping their answers.
#include "vault/vault_client.hpp"

#include "common/url.hpp"
#include "policy/values.hpp"
#include "vault/json.hpp"
#include "vault/response.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace credgate::vault {
namespace {

bool path_char_ok(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~' || c == '/' || c == '@' || c == ':' || c == '+';
}

// An API path without /v1/: non-empty segments of safe characters, none of them "." or "..".
Result<std::string> check_api_path(std::string_view what, std::string_view path) {
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (path.starts_with("/v1/")) path.remove_prefix(4);
    if (path.empty()) return fail(ErrorKind::invalid_argument, fmt::format("{} is empty", what));
    if (path.front() == '/')
        return fail(ErrorKind::invalid_argument, fmt::format("{} '{}' must not start with '/'", what, path));
    for (char c : path)
        if (!path_char_ok(c))
            return fail(ErrorKind::invalid_argument,
                        fmt::format("{} '{}' contains the character {:?}, which is not allowed", what, path, c));
    size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        auto seg = path.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..")
            return fail(ErrorKind::invalid_argument,
                        fmt::format("{} '{}' has an empty, '.' or '..' segment", what, path));
        start = end + 1;
    }
    return std::string(path);
}

// The same rule the policy validator applies, for a source built in code; the origin is what
// requests are sent to.
Result<std::string> check_address(std::string_view address) {
    if (auto e = policy::vault_address_error(address))
        return fail(ErrorKind::invalid_argument, "vault: address " + *e);
    return parse_url(address)->origin();
}

bool header_value_ok(std::string_view v) {
    return std::none_of(v.begin(), v.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string login_body(std::string_view role, std::string_view jwt) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("role");
    w.String(role.data(), static_cast<rapidjson::SizeType>(role.size()));
    w.Key("jwt");
    w.String(jwt.data(), static_cast<rapidjson::SizeType>(jwt.size()));
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

bool is_success(int status) { return status >= 200 && status < 300; }

}  // namespace

std::string url_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

Result<VaultClient> VaultClient::create(http::Client& http, const policy::VaultSource& source, ClientOptions options) {
    auto address = check_address(source.address);
    if (!address) return fail(address.error());
    std::string_view mount_in = source.jwt_auth_method_path;
    if (mount_in.starts_with("auth/")) mount_in.remove_prefix(5);
    auto mount = check_api_path("JWT auth mount path", mount_in);
    if (!mount) return fail(mount.error());
    auto path = check_api_path("secret path", source.path);
    if (!path) return fail(path.error());
    if (source.role.empty()) return fail(ErrorKind::invalid_argument, "role is empty");
    if (source.method != "GET")
        return fail(ErrorKind::unsupported,
                    fmt::format("method '{}' for '{}' is not supported (only GET)", source.method, *path));
    if (source.namespace_ && (source.namespace_->empty() || !header_value_ok(*source.namespace_)))
        return fail(ErrorKind::invalid_argument, "namespace is empty or contains a line break");

    VaultClient client(http, std::move(*address), source, options);
    client.mount_ = std::move(*mount);
    client.path_ = std::move(*path);
    for (const auto& [k, v] : source.params) {
        if (!client.query_.empty()) client.query_ += '&';
        client.query_ += url_encode(k) + "=" + url_encode(v);
    }
    return client;
}

VaultClient::VaultClient(http::Client& http, std::string address, policy::VaultSource source, ClientOptions options)
    : http_(&http), address_(std::move(address)), source_(std::move(source)), options_(options) {}

std::string VaultClient::read_url() const {
    return address_ + "/v1/" + path_ + (query_.empty() ? "" : "?" + query_);
}

ErrorContext VaultClient::context(Operation op, std::string path, bool fresh) const {
    return ErrorContext{op, std::move(path), mount_, source_.role, fresh};
}

http::Request VaultClient::make_request(std::string method, std::string path_and_query, const Token* token,
                                        std::string body) const {
    http::Request req;
    req.method = std::move(method);
    req.url = address_ + "/v1/" + path_and_query;
    req.timeout = options_.request_timeout;
    // Refused by the HTTP client while reading, before any parsing.
    req.body_limit = kMaxResponseBody;
    req.body = std::move(body);
    if (!req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    if (token) req.headers.emplace_back("X-Vault-Token", token->reveal());
    if (source_.namespace_) req.headers.emplace_back("X-Vault-Namespace", *source_.namespace_);
    req.headers.emplace_back("Accept", "application/json");
    return req;
}

void VaultClient::login(std::string_view jwt, Callback<LoginResult> done) {
    std::string path = "auth/" + mount_ + "/login";
    // Vault's own client trims the JWT before sending it.
    while (!jwt.empty() && (jwt.back() == '\n' || jwt.back() == ' ' || jwt.back() == '\r')) jwt.remove_suffix(1);
    auto req = make_request("POST", path, nullptr, login_body(source_.role, jwt));
    http_->send(std::move(req), [ctx = context(Operation::login, path), done = std::move(done)](Result<http::Response> r) {
        if (!r) return done(std::unexpected(classify_transport(r.error(), ctx)));
        if (!is_success(r->status)) return done(std::unexpected(classify_response(*r, ctx)));
        done(parse_login_response(r->body, Operation::login));
    });
}

void VaultClient::read(const Token& token, Callback<SecretResult> done, bool fresh_token) {
    auto req = make_request("GET", path_ + (query_.empty() ? "" : "?" + query_), &token, {});
    http_->send(std::move(req),
                [ctx = context(Operation::read, path_, fresh_token), done = std::move(done)](Result<http::Response> r) {
                    if (!r) return done(std::unexpected(classify_transport(r.error(), ctx)));
                    if (!is_success(r->status)) return done(std::unexpected(classify_response(*r, ctx)));
                    done(parse_secret_response(r->body));
                });
}

void VaultClient::renew_self(const Token& token, std::optional<std::chrono::seconds> increment,
                             Callback<LoginResult> done) {
    std::string body = increment ? fmt::format("{{\"increment\":{}}}", increment->count()) : std::string();
    std::string path = "auth/token/renew-self";
    auto req = make_request("POST", path, &token, std::move(body));
    http_->send(std::move(req), [ctx = context(Operation::renew_self, path), done = std::move(done)](Result<http::Response> r) {
        if (!r) return done(std::unexpected(classify_transport(r.error(), ctx)));
        if (!is_success(r->status)) return done(std::unexpected(classify_response(*r, ctx)));
        done(parse_login_response(r->body, Operation::renew_self));
    });
}

void VaultClient::renew_lease(const Token& token, const std::string& lease_id,
                              std::optional<std::chrono::seconds> increment, Callback<LeaseRenewal> done) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("lease_id");
    w.String(lease_id.data(), static_cast<rapidjson::SizeType>(lease_id.size()));
    if (increment) {
        w.Key("increment");
        w.Int64(increment->count());
    }
    w.EndObject();
    std::string path = "sys/leases/renew";
    auto req = make_request("PUT", path, &token, std::string(buf.GetString(), buf.GetSize()));
    http_->send(std::move(req), [ctx = context(Operation::renew_lease, path), done = std::move(done)](Result<http::Response> r) {
        if (!r) return done(std::unexpected(classify_transport(r.error(), ctx)));
        if (!is_success(r->status)) return done(std::unexpected(classify_response(*r, ctx)));
        done(parse_lease_renewal(r->body));
    });
}

void VaultClient::revoke_self(const Token& token, Callback<Empty> done) {
    std::string path = "auth/token/revoke-self";
    auto req = make_request("POST", path, &token, {});
    http_->send(std::move(req), [ctx = context(Operation::revoke_self, path), done = std::move(done)](Result<http::Response> r) {
        if (!r) return done(std::unexpected(classify_transport(r.error(), ctx)));
        if (!is_success(r->status)) return done(std::unexpected(classify_response(*r, ctx)));
        done(Empty{});
    });
}

}  // namespace credgate::vault
