// SPDX-License-Identifier: Apache-2.0
// Classification of Vault error responses and plain-words explanations of known mis-configurations.
#include "vault/error.hpp"

#include "http/client.hpp"
#include "vault/json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace credgate::vault {

const char* to_string(ErrorClass c) noexcept {
    switch (c) {
    case ErrorClass::auth_config: return "auth configuration";
    case ErrorClass::permission: return "permission";
    case ErrorClass::not_found: return "not found";
    case ErrorClass::bad_request: return "bad request";
    case ErrorClass::unavailable: return "unavailable";
    case ErrorClass::rate_limited: return "rate limited";
    case ErrorClass::transport: return "transport";
    case ErrorClass::protocol: return "protocol";
    case ErrorClass::local: return "local";
    }
    return "unknown";
}

const char* to_string(Operation op) noexcept {
    switch (op) {
    case Operation::login: return "login";
    case Operation::read: return "read";
    case Operation::renew_self: return "renew-self";
    case Operation::renew_lease: return "lease renew";
    case Operation::revoke_self: return "revoke-self";
    }
    return "unknown";
}

std::string VaultError::describe() const {
    std::string out = fmt::format("{}: {}", to_string(operation), to_string(error_class));
    if (http_status != 0) out += fmt::format(" (HTTP {})", http_status);
    if (!explanation.empty()) out += fmt::format(": {}", explanation);
    if (!vault_message.empty()) out += fmt::format(" [vault: \"{}\"]", vault_message);
    return out;
}

Error VaultError::to_error() const {
    ErrorKind kind = ErrorKind::internal;
    switch (error_class) {
    case ErrorClass::auth_config: kind = ErrorKind::config; break;
    case ErrorClass::permission: kind = ErrorKind::permission; break;
    case ErrorClass::not_found: kind = ErrorKind::not_found; break;
    case ErrorClass::bad_request: kind = ErrorKind::config; break;
    case ErrorClass::unavailable: kind = ErrorKind::unavailable; break;
    case ErrorClass::rate_limited: kind = ErrorKind::rate_limited; break;
    case ErrorClass::transport: kind = ErrorKind::transport; break;
    case ErrorClass::protocol: kind = ErrorKind::protocol; break;
    case ErrorClass::local: kind = ErrorKind::internal; break;
    }
    return Error{kind, "vault " + describe()};
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<std::string> find_header(const http::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += "; ";
        out += i;
    }
    return out;
}

}  // namespace

std::vector<std::string> split_multierror(std::string_view message) {
    // go-multierror: "<n> error(s) occurred:\n\t* <a>\n\t* <b>\n\n".
    const auto header_end = message.find(" occurred:\n");
    const bool is_multi = header_end != std::string_view::npos &&
                          (contains(message.substr(0, header_end), "error")) &&
                          contains(message, "\n\t* ");
    if (!is_multi) {
        auto t = trim(message);
        if (t.empty()) return {};
        return {std::string(t)};
    }
    std::vector<std::string> items;
    std::string_view rest = message.substr(header_end);
    size_t pos = 0;
    while ((pos = rest.find("\n\t* ")) != std::string_view::npos) {
        rest.remove_prefix(pos + 4);
        auto next = rest.find("\n\t* ");
        auto item = trim(rest.substr(0, next));
        if (!item.empty()) items.emplace_back(item);
        if (next == std::string_view::npos) break;
        rest = rest.substr(next);
    }
    return items;
}

std::vector<std::string> decode_error_messages(std::string_view body) {
    std::vector<std::string> out;
    if (body.size() > kMaxErrorBody) return out;
    json::Document doc;
    if (!json::parse(doc, body) || !doc.IsObject()) return out;
    auto it = doc.FindMember("errors");
    if (it == doc.MemberEnd() || !it->value.IsArray()) return out;
    for (const auto& e : it->value.GetArray()) {
        if (!e.IsString()) continue;
        for (auto& item : split_multierror(std::string_view(e.GetString(), e.GetStringLength())))
            out.push_back(std::move(item));
    }
    return out;
}

std::optional<Duration> parse_retry_after(std::string_view value) {
    value = trim(value);
    if (value.empty() || value.size() > 10) return std::nullopt;
    long long seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || ptr != value.data() + value.size() || seconds < 0) return std::nullopt;
    constexpr long long kMaxRetryAfterSeconds = 3600;
    return std::chrono::duration_cast<Duration>(std::chrono::seconds{std::min(seconds, kMaxRetryAfterSeconds)});
}

namespace {

// Plain words for a login refused with 400, keyed on Vault's exact strings (vault-wire.md §2.5.5).
std::string explain_login(const std::vector<std::string>& msgs, const ErrorContext& c) {
    auto has = [&](std::string_view needle) {
        return std::any_of(msgs.begin(), msgs.end(), [&](const std::string& m) { return contains(m, needle); });
    };
    const std::string role_ref = fmt::format("auth/{}/role/{}", c.mount, c.role);
    if (has("role with oidc role_type is not allowed"))
        return fmt::format("the Vault role was created without role_type=jwt (Vault defaults to oidc); "
                           "rewrite {} with role_type=jwt", role_ref);
    if (has("could not load configuration"))
        return fmt::format("the JWT auth method at auth/{} has no configuration; write auth/{}/config with "
                           "oidc_discovery_url (or jwks_url) pointing at this node's issuer", c.mount, c.mount);
    if (has("could not be found"))
        return fmt::format("there is no role '{}' on the JWT auth method at auth/{} (Vault lowercases role names); "
                           "create it or fix the CredentialSource's role", c.role, c.mount);
    if (has("missing role"))
        return fmt::format("no role was sent and auth/{}/config has no default_role; set the CredentialSource's role",
                           c.mount);
    if (has("invalid audience (aud) claim"))
        return fmt::format("the JWT's audience is not in the role's bound_audiences; make {} bound_audiences "
                           "include the CredentialSource's audience", role_ref);
    if (has("audience claim found in JWT but no audiences bound to the role"))
        return fmt::format("the JWT carries an audience but {} has no bound_audiences; set bound_audiences to "
                           "the CredentialSource's audience", role_ref);
    if (has("invalid subject (sub) claim"))
        return fmt::format("the role's bound_subject is not this workload's SPIFFE ID; set bound_subject on {} "
                           "to the workload's spiffe:// ID", role_ref);
    if (has("invalid issuer (iss) claim"))
        return fmt::format("auth/{}/config bound_issuer does not equal this node's issuer URL exactly", c.mount);
    if (has("failed to verify id token signature") || has("no known key successfully validated"))
        return fmt::format("Vault could not verify the JWT signature with the keys it has; check that auth/{}/config "
                           "points at this node's issuer (oidc_discovery_url or jwks_url) and that Vault can reach it",
                           c.mount);
    if (has("get keys failed") || has("fetching keys"))
        return "Vault could not fetch this node's JWKS; check that the issuer endpoint is reachable from Vault";
    if (has("token signed with unexpected algorithm"))
        return fmt::format("auth/{}/config jwt_supported_algs does not include the issuer's signing algorithm", c.mount);
    if (has("token is expired") || has("token not yet valid") || has("token issued in the future"))
        return "the JWT's validity window does not match Vault's clock; check time synchronisation on this host and "
               "on Vault (Vault allows 60 s of skew)";
    if (has("error validating claims"))
        return fmt::format("the JWT does not satisfy bound_claims on {}", role_ref);
    if (has("not found in token"))
        return fmt::format("the role's user_claim names a claim the JWT does not carry; use user_claim=sub on {}",
                           role_ref);
    if (has("missing token"))
        return "the login was sent without a JWT";
    return fmt::format("Vault refused the JWT login at auth/{}/login for role '{}'", c.mount, c.role);
}

bool is_invalid_token(const std::vector<std::string>& msgs) {
    return std::any_of(msgs.begin(), msgs.end(), [](const std::string& m) { return contains(m, "invalid token"); });
}

}  // namespace

VaultError classify_response(const http::Response& response, const ErrorContext& c) {
    VaultError e;
    e.operation = c.operation;
    e.http_status = response.status;
    const auto msgs = decode_error_messages(response.body);
    e.vault_message = join(msgs);
    auto has = [&](std::string_view needle) {
        return std::any_of(msgs.begin(), msgs.end(), [&](const std::string& m) { return contains(m, needle); });
    };
    if (auto ra = find_header(response, "Retry-After")) e.retry_after = parse_retry_after(*ra);

    const int s = response.status;
    if (has("Vault is sealed") || has("namespace is sealed")) {
        e.error_class = ErrorClass::unavailable;
        e.retryable = true;
        // Whether a delivered secret is still there is the refresh engine's to say, not this text's.
        e.explanation = "Vault is sealed; an operator has to unseal it";
        return e;
    }
    if (s == 429) {
        e.error_class = ErrorClass::rate_limited;
        e.retryable = true;
        e.explanation = e.retry_after
                            ? fmt::format("a Vault rate-limit quota refused the request; retrying after {} s",
                                          std::chrono::duration_cast<std::chrono::seconds>(*e.retry_after).count())
                            : "a Vault rate-limit quota refused the request; retrying with backoff";
        return e;
    }
    if (s == 307 || s == 301 || s == 302 || s == 308) {
        e.error_class = ErrorClass::unavailable;
        e.retryable = true;
        auto loc = find_header(response, "Location");
        e.explanation = fmt::format("Vault answered with a redirect{} that was not followed (a standby node?)",
                                    loc ? " to '" + *loc + "'" : std::string());
        return e;
    }
    if (s == 403) {
        e.error_class = ErrorClass::permission;
        if (c.operation == Operation::login) {
            e.explanation = fmt::format(
                "Vault refused the login at {} with 403: either no auth method is mounted at auth/{} (Vault answers "
                "a login to an unknown mount that way) or the role's token_bound_cidrs exclude this host",
                c.path, c.mount);
        } else if (is_invalid_token(msgs)) {
            e.explanation = "the Vault token is no longer valid (expired, revoked or used up); a new login is needed";
            e.retryable = true;
        } else if (c.operation == Operation::read && c.fresh_token) {
            e.explanation = fmt::format(
                "the token from role '{}' may not read '{}': add a policy granting \"read\" on that path to the "
                "role's token_policies", c.role, c.path);
        } else if (c.operation == Operation::read) {
            e.explanation = fmt::format(
                "reading '{}' was denied: the token expired, was revoked or used up, or its policies no longer "
                "grant \"read\" on that path", c.path);
            e.retryable = true;  // a new login may fix it; the engine decides
        } else if (c.operation == Operation::renew_lease) {
            e.explanation = "the token may not renew leases: grant \"update\" on sys/leases/renew (the default policy does)";
        } else {
            e.explanation = fmt::format("Vault denied {} for the token (expired, revoked or used up)",
                                        to_string(c.operation));
        }
        return e;
    }
    if (s == 404) {
        e.error_class = ErrorClass::not_found;
        if (has("no handler for route"))
            e.explanation = fmt::format("no secrets engine is mounted at '{}'; check the CredentialSource path", c.path);
        else if (c.operation == Operation::read)
            e.explanation = fmt::format(
                "Vault has nothing at '{}' (a missing role or key, or a deleted KV version); check the CredentialSource "
                "path", c.path);
        else
            e.explanation = fmt::format("Vault has no endpoint '{}'", c.path);
        return e;
    }
    if (s == 400 || s == 405 || s == 412 || s == 413 || s == 422) {
        if (has("Secret cannot be returned; token had one use left")) {
            e.error_class = ErrorClass::auth_config;
            e.explanation = fmt::format(
                "token_num_uses=1 on the role: the login token is used up by the read; set token_num_uses to 0 or "
                "at least 2 on auth/{}/role/{}", c.mount, c.role);
            return e;
        }
        if (c.operation == Operation::login) {
            e.error_class = ErrorClass::auth_config;
            e.explanation = explain_login(msgs, c);
            return e;
        }
        if (has("lease is not renewable")) {
            e.error_class = ErrorClass::bad_request;
            e.explanation = "the secret's lease is not renewable; a new secret has to be read instead";
            return e;
        }
        if (has("past the max TTL")) {
            e.error_class = ErrorClass::bad_request;
            e.explanation = "the token reached its max TTL and cannot be renewed; a new login is needed";
            return e;
        }
        if (has("batch tokens cannot be revoked")) {
            e.error_class = ErrorClass::bad_request;
            e.explanation = "the role issues batch tokens, which cannot be revoked (their leases expire on their own)";
            return e;
        }
        if (has("does not exist")) {
            e.error_class = ErrorClass::bad_request;
            e.explanation = fmt::format("the secrets engine refused '{}': a role or object it names does not exist", c.path);
            return e;
        }
        if (s == 412) {  // Vault: missing required state on a replica, worth retrying (its own client does)
            e.error_class = ErrorClass::unavailable;
            e.retryable = true;
            e.explanation = "Vault has not caught up with the required state yet";
            return e;
        }
        e.error_class = ErrorClass::bad_request;
        e.explanation = fmt::format("Vault refused the {} of '{}'", to_string(c.operation), c.path);
        return e;
    }
    if (s >= 500 || s == 472 || s == 473) {
        e.error_class = ErrorClass::unavailable;
        e.retryable = s != 501;
        if (has("no active Vault instance found") || has("node is not active") || has("standby mode"))
            e.explanation = "the Vault node is a standby with no reachable active node";
        else if (s == 501)
            e.explanation = "Vault is not initialized";
        else if (s == 500)
            e.explanation = fmt::format("Vault or its secrets engine failed while serving '{}' (an upstream error?)", c.path);
        else
            e.explanation = "Vault is unavailable";
        return e;
    }
    e.error_class = ErrorClass::protocol;
    e.retryable = true;
    e.explanation = fmt::format("unexpected HTTP status {} from Vault", s);
    return e;
}

VaultError classify_transport(const Error& error, const ErrorContext& c) {
    VaultError e;
    e.operation = c.operation;
    e.error_class = error.kind == ErrorKind::protocol ? ErrorClass::protocol : ErrorClass::transport;
    e.retryable = true;
    e.explanation = error.message;
    return e;
}

VaultError protocol_error(Operation op, int http_status, std::string what) {
    VaultError e;
    e.operation = op;
    e.error_class = ErrorClass::protocol;
    e.http_status = http_status;
    e.retryable = true;  // a proxy or a restarting node can send garbage once
    e.explanation = std::move(what);
    return e;
}

}  // namespace credgate::vault
