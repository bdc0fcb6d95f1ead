// SPDX-License-Identifier: Apache-2.0
// URL parsing for the HTTP client: exactly the forms the client supports, nothing more.
#include "http/url.hpp"

#include <cctype>
#include <charconv>

namespace credgate::http {
namespace {

uint16_t default_port(Url::Scheme s) { return s == Url::Scheme::https ? 443 : 80; }

bool valid_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

bool has_control_or_space(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
    return false;
}

}  // namespace

std::string Url::authority() const {
    if (scheme == Scheme::unix_socket) return socket_path;
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return h + ":" + std::to_string(port);
}

std::string Url::host_header() const {
    if (scheme == Scheme::unix_socket) return "localhost";
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != default_port(scheme)) h += ":" + std::to_string(port);
    return h;
}

std::string Url::pool_key() const {
    switch (scheme) {
        case Scheme::unix_socket: return "unix:" + socket_path;
        case Scheme::https: return "https://" + authority();
        case Scheme::http: break;
    }
    return "http://" + authority();
}

std::string Url::to_string() const {
    if (scheme == Scheme::unix_socket) return "unix:" + socket_path + ":" + target;
    return (scheme == Scheme::https ? "https://" : "http://") + host_header() + target;
}

Result<Url> parse_url(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return fail(ErrorKind::invalid_argument, "invalid URL '" + std::string(text) + "': " + std::string(why));
    };
    if (has_control_or_space(text)) return bad("contains a space or control character");
    Url url;
    std::string_view rest;
    if (text.starts_with("unix:")) {
        url.scheme = Url::Scheme::unix_socket;
        rest = text.substr(5);
        auto sep = rest.find(":/");
        if (!rest.starts_with('/') || sep == std::string_view::npos)
            return bad("expected unix:/path/to/socket:/request/path");
        url.socket_path = std::string(rest.substr(0, sep));
        url.target = std::string(rest.substr(sep + 1));
        if (url.target.find('#') != std::string::npos) return bad("fragments are not supported");
        return url;
    }
    if (text.starts_with("http://")) {
        url.scheme = Url::Scheme::http;
        rest = text.substr(7);
    } else if (text.starts_with("https://")) {
        url.scheme = Url::Scheme::https;
        rest = text.substr(8);
    } else {
        return bad("scheme must be http, https or unix");
    }
    auto path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view target = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    if (target.find('#') != std::string_view::npos) return bad("fragments are not supported");
    if (authority.find('@') != std::string_view::npos) return bad("user information is not supported");
    if (authority.empty()) return bad("missing host");
    std::string_view port_text;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
        url.host = std::string(authority.substr(1, close - 1));
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad("garbage after IPv6 literal");
            port_text = after.substr(1);
        }
        if (url.host.empty()) return bad("empty IPv6 literal");
        for (char c : url.host)
            if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return bad("bad IPv6 literal");
    } else {
        auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
        if (url.host.empty()) return bad("missing host");
        for (char c : url.host)
            if (!valid_host_char(c)) return bad("invalid character in host");
    }
    url.port = default_port(url.scheme);
    if (!port_text.empty() || (authority.back() == ':')) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
            value > 65535)
            return bad("invalid port");
        url.port = static_cast<uint16_t>(value);
    }
    if (target.empty()) {
        url.target = "/";
    } else if (target.front() == '?') {
        url.target = "/" + std::string(target);
    } else {
        url.target = std::string(target);
    }
    return url;
}

Result<Url> resolve_location(const Url& base, std::string_view location) {
    if (location.empty())
        return fail(ErrorKind::protocol, "redirect from " + base.to_string() + " has an empty Location");
    if (location.starts_with("http://") || location.starts_with("https://")) {
        auto url = parse_url(location);
        if (!url) return fail(ErrorKind::protocol, "redirect from " + base.to_string() + ": " + url.error().message);
        return url;
    }
    if (has_control_or_space(location) || location.find('#') != std::string_view::npos)
        return fail(ErrorKind::protocol, "redirect from " + base.to_string() + " has an unusable Location");
    if (location.starts_with("//")) {
        if (base.scheme == Url::Scheme::unix_socket)
            return fail(ErrorKind::protocol, "redirect from " + base.to_string() + " names another host");
        std::string full = (base.scheme == Url::Scheme::https ? "https:" : "http:") + std::string(location);
        auto url = parse_url(full);
        if (!url) return fail(ErrorKind::protocol, "redirect from " + base.to_string() + ": " + url.error().message);
        return url;
    }
    Url url = base;
    if (location.front() == '/') {
        url.target = std::string(location);
    } else if (location.front() == '?') {
        url.target = base.target.substr(0, base.target.find('?')) + std::string(location);
    } else {
        std::string path = base.target.substr(0, base.target.find('?'));
        url.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
    }
    return url;
}

}  // namespace credgate::http
