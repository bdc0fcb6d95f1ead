// SPDX-License-Identifier: Apache-2.0
// The URL parser, and the host and port rules it shares with host:port addresses.
#include "common/url.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace credgate {
namespace {

constexpr std::size_t kMaxHostBytes = 253;   // a DNS name in text form (RFC 1035 §2.3.4)
constexpr std::size_t kMaxLabelBytes = 63;

uint16_t default_port(Url::Scheme s) {
    switch (s) {
        case Url::Scheme::https: return 443;
        case Url::Scheme::http: return 80;
        case Url::Scheme::unix_socket: break;
    }
    return 0;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string printable(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return fmt::format("byte 0x{:02x}", u);
    return fmt::format("'{}'", c);
}

bool is_ipv6(std::string_view host) {
    unsigned char buf[16];
    return inet_pton(AF_INET6, std::string(host).c_str(), buf) == 1;
}

std::optional<std::string> port_error(std::string_view port, bool zero_port) {
    if (port.empty() || port.size() > 5) return fmt::format("port '{}' is not a number from 1 to 65535", port);
    unsigned n = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return fmt::format("port '{}' is not a number", port);
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    if (n > 65535 || (n == 0 && !zero_port)) return fmt::format("port {} is out of range 1..65535", port);
    return std::nullopt;
}

uint16_t port_value(std::string_view port) {
    unsigned n = 0;
    for (char c : port) n = n * 10 + static_cast<unsigned>(c - '0');
    return static_cast<uint16_t>(n);
}

// "host[:port]" or "[v6][:port]" taken apart, not yet judged.
struct Split {
    std::string_view host;
    std::optional<std::string_view> port;  // the text after ':', when there is one
    bool bracketed = false;
};

std::expected<Split, std::string> split_host_port(std::string_view text) {
    Split s;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::unexpected("an IPv6 address in brackets is missing ']'");
        s.host = text.substr(1, close - 1);
        s.bracketed = true;
        std::string_view rest = text.substr(close + 1);
        if (rest.empty()) return s;
        if (rest.front() != ':') return std::unexpected("expected ':' and a port after ']'");
        s.port = rest.substr(1);
        return s;
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        s.host = text;
        return s;
    }
    if (text.find(':') != colon) return std::unexpected("IPv6 addresses must be written in brackets, e.g. [::1]:8421");
    s.host = text.substr(0, colon);
    s.port = text.substr(colon + 1);
    return s;
}

std::optional<std::string> split_host_error(const Split& s) {
    if (s.bracketed && !is_ipv6(s.host)) return fmt::format("'[{}]' is not an IPv6 address", s.host);
    return host_error(s.host);
}

}  // namespace

bool Url::has_query() const { return target.find('?') != std::string::npos; }

std::string Url::authority() const {
    if (scheme == Scheme::unix_socket) return socket_path;
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return h + ":" + std::to_string(port);
}

std::string Url::origin() const {
    if (scheme == Scheme::unix_socket) return "unix:" + socket_path;
    std::string out = scheme == Scheme::https ? "https://" : "http://";
    out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != default_port(scheme)) out += ":" + std::to_string(port);
    return out;
}

std::string Url::to_string() const {
    if (scheme == Scheme::unix_socket) return "unix:" + socket_path + ":" + target;
    return origin() + target;
}

Result<Url> parse_url(std::string_view text, UrlSchemes schemes) {
    auto bad = [&](std::string_view what) {
        return fail(ErrorKind::invalid_argument, fmt::format("'{}' {}", text, what));
    };
    auto bad_part = [&](std::string_view why) {
        return fail(ErrorKind::invalid_argument, fmt::format("'{}': {}", text, why));
    };
    Url url;
    std::string_view rest;
    if (text.starts_with("http://")) {
        url.scheme = Url::Scheme::http;
        rest = text.substr(7);
    } else if (text.starts_with("https://")) {
        url.scheme = Url::Scheme::https;
        rest = text.substr(8);
    } else if (schemes == UrlSchemes::http_and_unix && text.starts_with("unix:")) {
        url.scheme = Url::Scheme::unix_socket;
        rest = text.substr(5);
    } else {
        return bad(schemes == UrlSchemes::http_and_unix ? "must be an http://, https:// or unix: URL"
                                                        : "must be an http:// or https:// URL");
    }
    for (char c : text)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            return bad(fmt::format("contains {}", c == ' ' ? std::string("a space") : printable(c)));
    if (rest.find('#') != std::string_view::npos) return bad("must not have a fragment");

    if (url.scheme == Url::Scheme::unix_socket) {
        auto sep = rest.find(":/");
        if (!rest.starts_with('/') || sep == std::string_view::npos)
            return bad("must be unix:/path/to/socket:/request/path");
        url.socket_path = std::string(rest.substr(0, sep));
        url.target = std::string(rest.substr(sep + 1));
        return url;
    }

    auto path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view target = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    if (authority.find('@') != std::string_view::npos) return bad("must not contain user information");
    auto split = split_host_port(authority);
    if (!split) return bad_part(split.error());
    if (split->host.empty()) return bad("has no host");
    if (auto e = split_host_error(*split)) return bad_part(*e);
    url.host = std::string(split->host);
    url.port = default_port(url.scheme);
    if (split->port) {
        if (auto e = port_error(*split->port, false)) return bad_part(*e);
        url.port = port_value(*split->port);
    }
    if (target.empty()) url.target = "/";
    else if (target.front() == '?') url.target = "/" + std::string(target);
    else url.target = std::string(target);
    return url;
}

Result<HostPort> parse_host_port(std::string_view text, bool port_required, bool zero_port) {
    auto split = split_host_port(text);
    if (!split) return fail(ErrorKind::invalid_argument, split.error());
    if (!split->port && port_required) return fail(ErrorKind::invalid_argument, "a port is required (host:port)");
    if (auto e = split_host_error(*split)) return fail(ErrorKind::invalid_argument, *e);
    HostPort out{std::string(split->host), std::nullopt};
    if (split->port) {
        if (auto e = port_error(*split->port, zero_port)) return fail(ErrorKind::invalid_argument, *e);
        out.port = port_value(*split->port);
    }
    return out;
}

std::optional<std::string> host_error(std::string_view host) {
    if (host.empty()) return "host must not be empty";
    std::string h(host);
    unsigned char buf[16];
    if (inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1) return std::nullopt;
    if (host.size() > kMaxHostBytes) return fmt::format("host name is longer than {} bytes", kMaxHostBytes);
    std::size_t start = 0;
    while (start <= host.size()) {
        std::size_t end = host.find('.', start);
        if (end == std::string_view::npos) end = host.size();
        std::string_view label = host.substr(start, end - start);
        if (label.empty()) return fmt::format("'{}' has an empty label", host);
        if (label.size() > kMaxLabelBytes)
            return fmt::format("'{}' has a label longer than {} bytes", host, kMaxLabelBytes);
        for (char c : label)
            if (!(is_alnum(c) || c == '-' || c == '_'))
                return fmt::format("'{}' is neither a host name nor an IP address ({})", host, printable(c));
        if (label.front() == '-' || label.back() == '-')
            return fmt::format("'{}' has a label that starts or ends with '-'", host);
        start = end + 1;
    }
    return std::nullopt;
}

}  // namespace credgate
