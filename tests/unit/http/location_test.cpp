// SPDX-License-Identifier: Apache-2.0
// Tests of the Host header a request URL carries and of redirect Location resolution.
#include "http/location.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::http;

TEST_CASE("the Host header leaves out the scheme's default port") {
    auto a = parse_url("http://vault.example:8200/v1/sys/health?standbyok=true");
    REQUIRE(a);
    CHECK(host_header(*a) == "vault.example:8200");
    auto b = parse_url("https://vault.example:443/");
    REQUIRE(b);
    CHECK(host_header(*b) == "vault.example");
    auto c = parse_url("http://[::1]:8200/x");
    REQUIRE(c);
    CHECK(host_header(*c) == "[::1]:8200");
    auto u = parse_url("unix:/run/credgate/control.sock:/v1/status", UrlSchemes::http_and_unix);
    REQUIRE(u);
    CHECK(host_header(*u) == "localhost");
}

TEST_CASE("resolves absolute, authority-relative, path-absolute and relative Locations") {
    auto base = parse_url("http://127.0.0.1:8200/v1/auth/jwt/login?x=1");
    REQUIRE(base);
    CHECK(resolve_location(*base, "https://other:8201/v1/y")->to_string() == "https://other:8201/v1/y");
    CHECK(resolve_location(*base, "//node2:8200/v1/z")->to_string() == "http://node2:8200/v1/z");
    CHECK(resolve_location(*base, "/v1/other")->to_string() == "http://127.0.0.1:8200/v1/other");
    CHECK(resolve_location(*base, "sibling")->to_string() == "http://127.0.0.1:8200/v1/auth/jwt/sibling");
    CHECK(resolve_location(*base, "?y=2")->to_string() == "http://127.0.0.1:8200/v1/auth/jwt/login?y=2");
}

TEST_CASE("refuses Locations the client cannot follow") {
    auto base = parse_url("http://127.0.0.1:8200/v1/auth/jwt/login");
    REQUIRE(base);
    for (const char* bad :
         {"", "unix:/run/other.sock:/x", "ftp://other/x", "/a b", "/a#frag", "https://user@other/", "//"}) {
        auto r = resolve_location(*base, bad);
        CHECK_MESSAGE(!r, bad);
        if (!r) CHECK(r.error().kind == ErrorKind::protocol);
    }
    auto unix_base = parse_url("unix:/run/credgate/control.sock:/v1/status", UrlSchemes::http_and_unix);
    REQUIRE(unix_base);
    CHECK_FALSE(resolve_location(*unix_base, "//other/x"));
}
