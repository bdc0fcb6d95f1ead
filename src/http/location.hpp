// SPDX-License-Identifier: Apache-2.0
// What HTTP makes of a parsed URL (common/url.hpp): the Host header a request to it carries, and a
// redirect's Location resolved against it.
#pragma once

#include "common/result.hpp"
#include "common/url.hpp"

#include <string>
#include <string_view>

namespace credgate::http {

// host, with ":port" when it is not the scheme's default ("[v6]" in brackets); "localhost" for a
// unix socket.
std::string host_header(const Url& url);

// Resolves a Location header (absolute URL, "//authority/...", "/abs/path" or "relative") against
// the URL it came from (RFC 9110 §10.2.2, RFC 3986 §5.2 without dot-segment removal). A Location
// that names another host must be an http(s) URL parse_url() accepts.
Result<Url> resolve_location(const Url& base, std::string_view location);

}  // namespace credgate::http
