// SPDX-License-Identifier: Apache-2.0
// Client against server on 127.0.0.1 port 0 and on a unix socket: exchanges, keep-alive, limits,
// deadlines, redirects and error messages.
#include "http/client_factory.hpp"
#include "http/event_loop.hpp"
#include "http/server.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

using namespace credgate;
using namespace credgate::http;

namespace {

// Runs the loop until `client->send` completes.
Result<Response> exchange(EventLoop& loop, Client& client, Request req) {
    std::optional<Result<Response>> out;
    client.send(std::move(req), [&](Result<Response> r) { out = std::move(r); });
    loop.run_until([&] { return out.has_value(); });
    REQUIRE(out.has_value());
    return std::move(*out);
}

std::unique_ptr<Server> echo_server(EventLoop& loop, ServerOptions opts = {}) {
    if (opts.listen.empty()) opts.listen = "127.0.0.1:0";
    auto server = Server::create(loop, opts, [](const ServerRequest& req, Responder respond) {
        ServerResponse r;
        r.status = 200;
        r.headers.emplace_back("X-Method", req.method);
        r.headers.emplace_back("X-Path", req.path);
        r.headers.emplace_back("X-Query", req.query);
        r.headers.emplace_back("X-Token", req.header("x-vault-token").value_or(""));
        r.body = req.body;
        respond(std::move(r));
    });
    REQUIRE(server);
    return std::move(*server);
}

std::string base(const Server& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }

}  // namespace

TEST_CASE("GET and POST round-trip between client and server") {
    EventLoop loop;
    auto server = echo_server(loop);
    CHECK(server->port() != 0);
    auto client = make_client(loop);
    REQUIRE(client);

    Request get;
    get.url = base(*server) + "/v1/sys/health?standbyok=true";
    get.headers.emplace_back("X-Vault-Token", "t0k3n");
    auto r1 = exchange(loop, **client, get);
    REQUIRE(r1);
    CHECK(r1->status == 200);
    CHECK(r1->header("x-method") == "GET");
    CHECK(r1->header("X-Path") == "/v1/sys/health");
    CHECK(r1->header("X-Query") == "standbyok=true");
    CHECK(r1->header("X-Token") == "t0k3n");

    Request post;
    post.method = "POST";
    post.url = base(*server) + "/v1/auth/jwt/login";
    post.body = R"({"role":"r","jwt":"x"})";
    auto r2 = exchange(loop, **client, post);
    REQUIRE(r2);
    CHECK(r2->header("X-Method") == "POST");
    CHECK(r2->body == post.body);
}
