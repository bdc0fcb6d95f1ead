// SPDX-License-Identifier: Apache-2.0
// URLs as credgate reads them: the one parser every module uses, so that the policy validator, the
// HTTP client, the Vault client and the issuer accept and refuse the same text the same way.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace credgate {

struct Url {
    enum class Scheme { http, https, unix_socket };
    Scheme scheme = Scheme::http;
    std::string host;          // without IPv6 brackets; empty for unix sockets
    uint16_t port = 0;         // the scheme's default when the URL has none; 0 for unix sockets
    std::string socket_path;   // unix sockets only
    std::string target = "/";  // path?query, never empty

    bool has_query() const;
    // "host:port" ("[v6]:port") or the socket path: how errors name the peer.
    std::string authority() const;
    // "scheme://host[:port]" with the port only when it is not the scheme's default, or
    // "unix:/socket/path": requests to one origin go to the same place.
    std::string origin() const;
    std::string to_string() const;
};

// Which schemes a caller takes: the unix: form exists only for the local control socket.
enum class UrlSchemes { http, http_and_unix };

// Accepts http://host[:port][/path][?query] and https://... (the port 1..65535; the host a DNS name,
// an IPv4 address or an IPv6 address in brackets) and, with UrlSchemes::http_and_unix,
// unix:/socket/path:/request/path (the socket path ends at the first ":/"). Refuses user
// information, fragments, spaces, control characters and bytes outside ASCII.
// Errors are ErrorKind::invalid_argument, a sentence that starts with the quoted URL:
// "'ftp://vault' must be an http:// or https:// URL".
Result<Url> parse_url(std::string_view text, UrlSchemes schemes = UrlSchemes::http);

struct HostPort {
    std::string host;              // without IPv6 brackets
    std::optional<uint16_t> port;  // absent when the text has none
};

// "host", "host:port", "[v6]" or "[v6]:port", the host checked as by host_error(). A port is 1..65535,
// or 0 too with `zero_port` (a listen address: "pick one"). Errors are ErrorKind::invalid_argument
// with the reason alone ("a port is required (host:port)").
Result<HostPort> parse_host_port(std::string_view text, bool port_required, bool zero_port);

// What is wrong with a host name or an IP address (IPv6 without brackets), or nothing when it is valid.
std::optional<std::string> host_error(std::string_view host);

}  // namespace credgate
