// SPDX-License-Identifier: Apache-2.0
// The one URL parser: the forms every module accepts, the ones each refuses, and what the refusal says.
#include "common/url.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace credgate;

namespace {

// The message of a refusal, or "" when the text was accepted.
std::string refusal(std::string_view text, UrlSchemes schemes = UrlSchemes::http) {
    auto r = parse_url(text, schemes);
    if (r) return "";
    CHECK(r.error().kind == ErrorKind::invalid_argument);
    return r.error().message;
}

}  // namespace

TEST_CASE("parses http and https URLs with their default ports") {
    auto a = parse_url("http://vault.example:8200/v1/sys/health?standbyok=true");
    REQUIRE(a);
    CHECK(a->scheme == Url::Scheme::http);
    CHECK(a->host == "vault.example");
    CHECK(a->port == 8200);
    CHECK(a->target == "/v1/sys/health?standbyok=true");
    CHECK(a->has_query());
    CHECK(a->origin() == "http://vault.example:8200");
    CHECK(a->authority() == "vault.example:8200");

    auto b = parse_url("https://vault.example");
    REQUIRE(b);
    CHECK(b->scheme == Url::Scheme::https);
    CHECK(b->port == 443);
    CHECK(b->target == "/");
    CHECK_FALSE(b->has_query());
    CHECK(b->origin() == "https://vault.example");
    CHECK(b->to_string() == "https://vault.example/");

    auto c = parse_url("http://[::1]:8200/x");
    REQUIRE(c);
    CHECK(c->host == "::1");
    CHECK(c->authority() == "[::1]:8200");
    CHECK(c->origin() == "http://[::1]:8200");

    auto d = parse_url("https://10.0.0.7:443?x=1");
    REQUIRE(d);
    CHECK(d->target == "/?x=1");
    CHECK(d->origin() == "https://10.0.0.7");
}

TEST_CASE("accepts unix: URLs only where the caller takes them") {
    auto u = parse_url("unix:/run/credgate/control.sock:/v1/status", UrlSchemes::http_and_unix);
    REQUIRE(u);
    CHECK(u->scheme == Url::Scheme::unix_socket);
    CHECK(u->socket_path == "/run/credgate/control.sock");
    CHECK(u->target == "/v1/status");
    CHECK(u->origin() == "unix:/run/credgate/control.sock");
    CHECK(u->to_string() == "unix:/run/credgate/control.sock:/v1/status");

    CHECK(refusal("unix:/run/credgate/control.sock:/v1/status") ==
          "'unix:/run/credgate/control.sock:/v1/status' must be an http:// or https:// URL");
    CHECK(refusal("ftp://x/", UrlSchemes::http_and_unix) == "'ftp://x/' must be an http://, https:// or unix: URL");
    for (const char* bad : {"unix:relative.sock:/x", "unix:/no/target"})
        CHECK_MESSAGE(refusal(bad, UrlSchemes::http_and_unix).ends_with("must be unix:/path/to/socket:/request/path"),
                      bad);
}

TEST_CASE("refuses URLs no module can use, and says why") {
    CHECK(refusal("vault.example.org:8200") == "'vault.example.org:8200' must be an http:// or https:// URL");
    CHECK(refusal("ftp://vault") == "'ftp://vault' must be an http:// or https:// URL");
    CHECK(refusal("HTTP://vault") == "'HTTP://vault' must be an http:// or https:// URL");
    CHECK(refusal("http://") == "'http://' has no host");
    CHECK(refusal("https://:8200") == "'https://:8200' has no host");
    CHECK(refusal("https://[]:8200") == "'https://[]:8200' has no host");
    CHECK(refusal("http:///path") == "'http:///path' has no host");
    CHECK(refusal("https://user@vault") == "'https://user@vault' must not contain user information");
    CHECK(refusal("http://host/a#frag") == "'http://host/a#frag' must not have a fragment");
    CHECK(refusal("http://ho st/") == "'http://ho st/' contains a space");
    CHECK(refusal("http://host/a\nb") == "'http://host/a\nb' contains byte 0x0a");
    CHECK(refusal("http://host/caf\xc3\xa9") == "'http://host/caf\xc3\xa9' contains byte 0xc3");
    CHECK(refusal("http://host:0/") == "'http://host:0/': port 0 is out of range 1..65535");
    CHECK(refusal("http://host:99999/") == "'http://host:99999/': port 99999 is out of range 1..65535");
    CHECK(refusal("http://host:/") == "'http://host:/': port '' is not a number from 1 to 65535");
    CHECK(refusal("http://host:8a/") == "'http://host:8a/': port '8a' is not a number");
    CHECK(refusal("http://::1/") == "'http://::1/': IPv6 addresses must be written in brackets, e.g. [::1]:8421");
    CHECK(refusal("http://[::1/") == "'http://[::1/': an IPv6 address in brackets is missing ']'");
    CHECK(refusal("http://[::1]x/") == "'http://[::1]x/': expected ':' and a port after ']'");
    CHECK(refusal("http://[vault]/") == "'http://[vault]/': '[vault]' is not an IPv6 address");
    CHECK(refusal("http://-vault/") == "'http://-vault/': '-vault' has a label that starts or ends with '-'");
    CHECK(refusal("http://vault..example/") == "'http://vault..example/': 'vault..example' has an empty label");
    CHECK(refusal("http://va%6ct/") == "'http://va%6ct/': 'va%6ct' is neither a host name nor an IP address ('%')");
}

TEST_CASE("host:port addresses follow the URL's host and port rules") {
    auto a = parse_host_port("127.0.0.1:8421", true, false);
    REQUIRE(a);
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 8421);
    auto b = parse_host_port("[::1]:0", true, true);
    REQUIRE(b);
    CHECK(b->host == "::1");
    CHECK(b->port == 0);
    auto c = parse_host_port("vault.example", false, false);
    REQUIRE(c);
    CHECK_FALSE(c->port);

    CHECK(parse_host_port("vault.example", true, false).error().message == "a port is required (host:port)");
    CHECK(parse_host_port("[::1]", true, false).error().message == "a port is required (host:port)");
    CHECK(parse_host_port("host:0", true, false).error().message == "port 0 is out of range 1..65535");
    CHECK(parse_host_port("::1:80", true, true).error().message ==
          "IPv6 addresses must be written in brackets, e.g. [::1]:8421");
    CHECK(parse_host_port(":80", true, true).error().message == "host must not be empty");
}

TEST_CASE("hosts are DNS names or IP addresses") {
    for (const char* good : {"localhost", "vault.example.org", "node_1.internal", "127.0.0.1", "::1", "fe80::1"})
        CHECK_MESSAGE(!host_error(good), good);
    CHECK(host_error("") == "host must not be empty");
    CHECK(host_error(std::string(254, 'a')) == "host name is longer than 253 bytes");
    CHECK(host_error(std::string(64, 'a') + ".example") ==
          "'" + std::string(64, 'a') + ".example' has a label longer than 63 bytes");
    CHECK(host_error("vault.") == "'vault.' has an empty label");
    CHECK(host_error("ho st") == "'ho st' is neither a host name nor an IP address (' ')");
}
