// SPDX-License-Identifier: Apache-2.0
// Tests of URL parsing and redirect Location resolution.
#include "http/url.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::http;

TEST_CASE("parses http, https and unix URLs with their default ports") {
    auto a = parse_url("http://vault.example:8200/v1/sys/health?standbyok=true");
    REQUIRE(a);
    CHECK(a->host == "vault.example");
    CHECK(a->port == 8200);
    CHECK(a->target == "/v1/sys/health?standbyok=true");
    CHECK(a->host_header() == "vault.example:8200");

    auto b = parse_url("https://vault.example");
    REQUIRE(b);
    CHECK(b->port == 443);
    CHECK(b->target == "/");
    CHECK(b->host_header() == "vault.example");

    auto c = parse_url("http://[::1]:8200/x");
    REQUIRE(c);
    CHECK(c->host == "::1");
    CHECK(c->authority() == "[::1]:8200");

    auto u = parse_url("unix:/run/credgate/control.sock:/v1/status");
    REQUIRE(u);
    CHECK(u->scheme == Url::Scheme::unix_socket);
    CHECK(u->socket_path == "/run/credgate/control.sock");
    CHECK(u->target == "/v1/status");
}

TEST_CASE("refuses URLs the client cannot use") {
    for (const char* bad : {"ftp://x/", "http://", "http://user@host/", "http://host:0/", "http://host:99999/",
                            "http://host/a#frag", "http://ho st/", "unix:relative.sock:/x", "unix:/no/target"}) {
        auto r = parse_url(bad);
        CHECK_MESSAGE(!r, bad);
        if (!r) CHECK(r.error().kind == ErrorKind::invalid_argument);
    }
}

TEST_CASE("resolves absolute, authority-relative, path-absolute and relative Locations") {
    auto base = parse_url("http://127.0.0.1:8200/v1/auth/jwt/login?x=1");
    REQUIRE(base);
    CHECK(resolve_location(*base, "https://other:8201/v1/y")->to_string() == "https://other:8201/v1/y");
    CHECK(resolve_location(*base, "//node2:8200/v1/z")->to_string() == "http://node2:8200/v1/z");
    CHECK(resolve_location(*base, "/v1/other")->to_string() == "http://127.0.0.1:8200/v1/other");
    CHECK(resolve_location(*base, "sibling")->to_string() == "http://127.0.0.1:8200/v1/auth/jwt/sibling");
    CHECK(!resolve_location(*base, ""));
}
