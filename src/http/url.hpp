// SPDX-License-Identifier: Apache-2.0
// Parsing of the URLs http::Client accepts, and resolution of a redirect's Location against them.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace credgate::http {

struct Url {
    enum class Scheme { http, https, unix_socket };
    Scheme scheme = Scheme::http;
    std::string host;         // without IPv6 brackets; empty for unix sockets
    uint16_t port = 0;        // the scheme's default when the URL has none
    std::string socket_path;  // unix sockets only
    std::string target = "/"; // path?query, never empty

    // "host:port" ("[v6]:port") or the socket path: how errors name the peer.
    std::string authority() const;
    // The Host header value: host, with ":port" when not the scheme's default.
    std::string host_header() const;
    // Scheme, host and port (or socket path): connections are pooled per key.
    std::string pool_key() const;
    std::string to_string() const;
};

// Accepts http://host[:port][/path][?query], https://..., and unix:/socket/path:/request/path.
// Userinfo and fragments are refused; errors are ErrorKind::invalid_argument naming the URL.
Result<Url> parse_url(std::string_view url);

// Resolves a Location header (absolute URL, "//authority/...", "/abs/path" or "relative") against
// the URL it came from (RFC 9110 §10.2.2, RFC 3986 §5.2 without dot-segment removal).
Result<Url> resolve_location(const Url& base, std::string_view location);

}  // namespace credgate::http
