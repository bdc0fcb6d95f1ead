// SPDX-License-Identifier: Apache-2.0
// Vault failures as a class the refresh engine can act on, with Vault's own words kept verbatim
// and a plain-words explanation for the mis-configurations operators hit most.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::http {
struct Response;
}

namespace credgate::vault {

enum class ErrorClass {
    auth_config,   // the login was refused: auth method or role set up wrong, or the JWT rejected
    permission,    // 403: the token's policies deny the path, or the token is gone
    not_found,     // 404: nothing at the path
    bad_request,   // another 400 the caller cannot fix by retrying (e.g. "lease is not renewable")
    unavailable,   // sealed, standby, no leader, 5xx
    rate_limited,  // 429 quota
    transport,     // connect, TLS, timeout, body limit
    protocol,      // a body we cannot parse or trust
    local,         // credgate itself failed (JWT minting, delivery)
};

const char* to_string(ErrorClass c) noexcept;

// Which call failed; the explanation depends on it (403 on login means something else than on a read).
enum class Operation { login, read, renew_self, renew_lease, revoke_self };

const char* to_string(Operation op) noexcept;

struct VaultError {
    ErrorClass error_class = ErrorClass::protocol;
    Operation operation = Operation::read;
    int http_status = 0;                    // 0 when no HTTP response was received
    std::string vault_message;              // Vault's errors[], multierror items joined by "; "
    std::string explanation;                // plain words: what is wrong and what to change
    std::optional<Duration> retry_after;    // from a Retry-After header on 429/503
    bool retryable = false;                 // false: retrying without a change will fail the same way

    // One line for logs and status: "<op> '<what>': <class> (HTTP n): <explanation> [vault: "..."]".
    std::string describe() const;
    // The same, as the project-wide error type.
    Error to_error() const;
};

template <typename T>
using VaultResult = std::expected<T, VaultError>;

// Splits Vault's go-multierror text ("2 errors occurred:\n\t* a\n\t* b\n\n") into its items; any
// other string comes back as a single item.
std::vector<std::string> split_multierror(std::string_view message);

// Decodes an error body `{"errors":[...]}` into its messages (multierror items flattened). Bodies that
// are not that shape yield nothing; the status alone then decides.
std::vector<std::string> decode_error_messages(std::string_view body);

// Context that makes explanations concrete.
struct ErrorContext {
    Operation operation = Operation::read;
    std::string path;          // API path without /v1/ (the secret path, or auth/<mount>/login)
    std::string mount;         // JWT auth mount, e.g. "jwt"
    std::string role;          // JWT auth role
    bool fresh_token = false;  // read right after a login (a 403 then means policy, not expiry)
};

// Classifies a non-2xx response (also 307 and other unexpected codes).
VaultError classify_response(const http::Response& response, const ErrorContext& context);

// Classifies a transport failure reported by the HTTP client.
VaultError classify_transport(const Error& error, const ErrorContext& context);

// A body that failed validation (wrong JSON, wrong field types, too large).
VaultError protocol_error(Operation op, int http_status, std::string what);

// Parses a Retry-After value (delta-seconds only; HTTP-dates are ignored), capped at one hour.
std::optional<Duration> parse_retry_after(std::string_view value);

}  // namespace credgate::vault
