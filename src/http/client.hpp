// SPDX-License-Identifier: Apache-2.0
// The HTTP client contract used by src/vault and src/issuer tests: one asynchronous exchange per
// call, completed on the io_context the client was created with. No Beast or Asio type leaks here.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace credgate::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr size_t kDefaultResponseBodyLimit = 1 << 20;  // 1 MiB, as Vault's own plugins cap
inline constexpr Duration kDefaultRequestTimeout{std::chrono::seconds{30}};

struct Request {
    std::string method = "GET";
    std::string url;  // absolute: http(s)://host[:port]/path?query
    Headers headers;
    std::string body;
    Duration timeout = kDefaultRequestTimeout;        // whole exchange, including redirects
    size_t body_limit = kDefaultResponseBodyLimit;    // larger responses fail with ErrorKind::protocol
};

struct Response {
    int status = 0;
    Headers headers;
    std::string body;

    // Case-insensitive header lookup; first match.
    std::optional<std::string> header(std::string_view name) const;
};

// Transport failures (connect, TLS, timeout, body limit) are errors; any HTTP status is a Response.
using Completion = std::function<void(Result<Response>)>;

class Client {
public:
    virtual ~Client() = default;
    virtual void send(Request request, Completion done) = 0;
};

}  // namespace credgate::http
