// SPDX-License-Identifier: Apache-2.0
// Vault/OpenBao client over the asynchronous http::Client: JWT login, secret read, token and lease
// renewal, token revocation. Completions run on the HTTP client's event loop.
#pragma once

#include "common/result.hpp"
#include "http/client.hpp"
#include "policy/model.hpp"
#include "vault/error.hpp"
#include "vault/types.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace credgate::vault {

template <typename T>
using Callback = std::function<void(VaultResult<T>)>;

struct ClientOptions {
    Duration request_timeout = http::kDefaultRequestTimeout;
};

class VaultClient {
public:
    // Validates the source (address scheme, path and mount characters) once, so later calls
    // cannot fail for a reason that was knowable up front.
    static Result<VaultClient> create(http::Client& http, const policy::VaultSource& source,
                                      ClientOptions options = {});

    // POST /v1/auth/<mount>/login {"role","jwt"}.
    void login(std::string_view jwt, Callback<LoginResult> done);
    // GET /v1/<path>?<params> with the token. `fresh_token` only sharpens error explanations.
    void read(const Token& token, Callback<SecretResult> done, bool fresh_token = false);
    // POST /v1/auth/token/renew-self; `increment` empty = the role's own TTL.
    void renew_self(const Token& token, std::optional<std::chrono::seconds> increment,
                    Callback<LoginResult> done);
    // PUT /v1/sys/leases/renew {"lease_id", "increment"?}.
    void renew_lease(const Token& token, const std::string& lease_id,
                     std::optional<std::chrono::seconds> increment, Callback<LeaseRenewal> done);
    // POST /v1/auth/token/revoke-self (revokes the token and every lease it read).
    void revoke_self(const Token& token, Callback<Empty> done);

    const std::string& address() const noexcept { return address_; }
    const std::string& secret_path() const noexcept { return path_; }
    // The full read URL (without token), for status output.
    std::string read_url() const;

private:
    VaultClient(http::Client& http, std::string address, policy::VaultSource source, ClientOptions options);
    http::Request make_request(std::string method, std::string path_and_query, const Token* token,
                               std::string body) const;
    ErrorContext context(Operation op, std::string path, bool fresh = false) const;

    http::Client* http_;
    std::string address_;  // scheme://host[:port], no trailing slash
    std::string mount_;    // auth mount without "auth/"
    std::string path_;     // secret path without /v1/
    std::string query_;    // encoded params, without '?'
    policy::VaultSource source_;
    ClientOptions options_;
};

// Percent-encodes a query component (RFC 3986 unreserved characters stay as they are).
std::string url_encode(std::string_view s);

}  // namespace credgate::vault
