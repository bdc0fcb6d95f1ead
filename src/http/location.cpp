// SPDX-License-Identifier: Apache-2.0
// The Host header of a request URL, and redirect Location resolution.
#include "http/location.hpp"

namespace credgate::http {
namespace {

bool has_control_or_space(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return true;
    return false;
}

// "scheme:" before any '/', '?' or '#' makes a reference absolute (RFC 3986 §3.1, §4.2): such a
// Location is never a relative path, whatever its scheme.
bool has_scheme(std::string_view ref) {
    auto colon = ref.find_first_of(":/?#");
    if (colon == std::string_view::npos || colon == 0 || ref[colon] != ':') return false;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (!alpha(ref.front())) return false;
    for (char c : ref.substr(0, colon))
        if (!(alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) return false;
    return true;
}

}  // namespace

std::string host_header(const Url& url) {
    if (url.scheme == Url::Scheme::unix_socket) return "localhost";
    std::string origin = url.origin();
    return origin.substr(origin.find("://") + 3);
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
    if (has_scheme(location))
        return fail(ErrorKind::protocol, "redirect from " + base.to_string() + " to '" + std::string(location) +
                                             "': only http and https are followed");
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
