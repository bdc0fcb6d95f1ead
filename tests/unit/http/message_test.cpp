// SPDX-License-Identifier: Apache-2.0
// Requests and responses from bytes: what the server hands its handler or answers instead, what
// the client returns, and where a redirect leads.
#include <doctest/doctest.h>

#include <string>

#include "common/url.hpp"
#include "http/message.hpp"

using namespace credgate;

TEST_CASE("a request becomes method, path, query, headers and body") {
    auto p = http::parse_request("POST /v1/reload?x=1&y=2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    REQUIRE(p.request.has_value());
    CHECK(p.request->method == "POST");
    CHECK(p.request->target == "/v1/reload?x=1&y=2");
    CHECK(p.request->path == "/v1/reload");
    CHECK(p.request->query == "x=1&y=2");
    CHECK(p.request->header("host") == "a");
    CHECK(p.request->body == "hello");
    CHECK(p.keep_alive);
    CHECK_FALSE(p.refusal.has_value());
}

TEST_CASE("a chunked request body is joined, and Connection: close ends the connection") {
    auto p = http::parse_request(
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    REQUIRE(p.request.has_value());
    CHECK(p.request->body == "abcde");
    CHECK_FALSE(p.keep_alive);
}

TEST_CASE("a request over a limit or malformed is answered with 413, 431 or 400; nothing at all closes quietly") {
    http::ServerOptions options;
    options.max_body_bytes = 4;
    options.max_header_bytes = 64;
    auto big_body = http::parse_request("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", options);
    REQUIRE(big_body.refusal.has_value());
    CHECK(big_body.refusal->status == 413);
    CHECK_FALSE(big_body.request.has_value());
    auto big_chunks = http::parse_request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                                          options);
    REQUIRE(big_chunks.refusal.has_value());
    CHECK(big_chunks.refusal->status == 413);
    auto big_header = http::parse_request("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", options);
    REQUIRE(big_header.refusal.has_value());
    CHECK(big_header.refusal->status == 431);
    auto malformed = http::parse_request("GET / HTTP/1.1\r\nno colon here\r\n\r\n");
    REQUIRE(malformed.refusal.has_value());
    CHECK(malformed.refusal->status == 400);
    auto cut = http::parse_request("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhel");
    CHECK_FALSE(cut.request.has_value());
    auto nothing = http::parse_request("");
    CHECK_FALSE(nothing.request.has_value());
    CHECK_FALSE(nothing.refusal.has_value());
}

TEST_CASE("a response is status, headers and body; chunked and read-to-close bodies are whole") {
    auto r = http::parse_response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                                  "GET", "vault:8200");
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    CHECK(r->header("content-type") == "application/json");
    CHECK(r->body == "{}");
    auto chunked = http::parse_response(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\n",
        "GET", "vault:8200");
    REQUIRE(chunked.has_value());
    CHECK(chunked->body == "wikipedia");
    auto to_close = http::parse_response("HTTP/1.1 200 OK\r\n\r\nuntil close", "GET", "vault:8200");
    REQUIRE(to_close.has_value());
    CHECK(to_close->body == "until close");
    auto head = http::parse_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "HEAD", "vault:8200");
    REQUIRE(head.has_value());
    CHECK(head->body.empty());
}

TEST_CASE("a response over the body limit, malformed or cut short is an error naming the server") {
    auto big = http::parse_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "GET", "vault:8200", 10);
    REQUIRE_FALSE(big.has_value());
    CHECK(big.error().kind == ErrorKind::protocol);
    CHECK(big.error().message.find("vault:8200") != std::string::npos);
    CHECK(big.error().message.find("body limit of 10 bytes") != std::string::npos);
    auto bad = http::parse_response("HTTP/1.1 2x0 OK\r\n\r\n", "GET", "vault:8200");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().kind == ErrorKind::protocol);
    auto cut = http::parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "GET", "vault:8200");
    REQUIRE_FALSE(cut.has_value());
    auto bad_chunk = http::parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "GET",
                                          "vault:8200");
    REQUIRE_FALSE(bad_chunk.has_value());
    CHECK(bad_chunk.error().kind == ErrorKind::protocol);
}

TEST_CASE("a 307 or 308 with a Location leads on; past the limit or from https to http it is refused") {
    auto base = parse_url("https://vault.example:8200/v1/secret", UrlSchemes::http);
    REQUIRE(base.has_value());
    http::Response r;
    r.status = 307;
    r.headers.emplace_back("Location", "/v1/other");
    auto next = http::redirect_target(*base, r, 0, 3, base->to_string());
    REQUIRE(next.has_value());
    REQUIRE(next->has_value());
    CHECK((*next)->to_string() == "https://vault.example:8200/v1/other");
    auto too_many = http::redirect_target(*base, r, 3, 3, "https://first/");
    REQUIRE_FALSE(too_many.has_value());
    CHECK(too_many.error().message.find("too many redirects (more than 3) starting at https://first/") !=
          std::string::npos);
    r.headers[0].second = "http://vault.example/v1/other";
    auto downgrade = http::redirect_target(*base, r, 0, 3, base->to_string());
    REQUIRE_FALSE(downgrade.has_value());
    CHECK(downgrade.error().message.find("non-TLS") != std::string::npos);
    r.status = 302;
    auto not_followed = http::redirect_target(*base, r, 0, 3, base->to_string());
    REQUIRE(not_followed.has_value());
    CHECK_FALSE(not_followed->has_value());
}
