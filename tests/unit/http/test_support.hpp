// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the http tests: a started server, a client, one exchange on the loop, temp dirs,
// skip handling.
#pragma once

#include "http/client.hpp"
#include "http/client_factory.hpp"
#include "http/server.hpp"
#include "runtime/event_loop.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace credgate::http::test {

// A server on `loop`, on 127.0.0.1 port 0 unless `opts.listen` names another address; the test
// stops when it cannot start.
inline std::unique_ptr<Server> start_server(runtime::EventLoop& loop, ServerOptions opts, Handler handler) {
    if (opts.listen.empty()) opts.listen = "127.0.0.1:0";
    auto server = Server::create(loop, opts, std::move(handler));
    REQUIRE_MESSAGE(server, (server ? "" : server.error().message));
    return std::move(*server);
}

// A client on `loop`; the test stops when it cannot be made.
inline std::unique_ptr<Client> new_client(runtime::EventLoop& loop, ClientOptions opts = {}) {
    auto client = make_client(loop, opts);
    REQUIRE(client);
    return std::move(*client);
}

// Runs the loop until `client.send` completes.
inline Result<Response> exchange(runtime::EventLoop& loop, Client& client, Request req) {
    std::optional<Result<Response>> out;
    client.send(std::move(req), [&](Result<Response> r) { out = std::move(r); });
    loop.run_until([&] { return out.has_value(); });
    REQUIRE(out.has_value());
    return std::move(*out);
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "credgate-http-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

// Exits 77 (meson: skipped) with a reason, or 1 when every test is required to run.
[[noreturn]] inline void skip_all(const std::string& why) {
    const char* require = std::getenv("CREDGATE_REQUIRE_ALL_TESTS");
    std::fprintf(stderr, "SKIP: %s\n", why.c_str());
    std::exit(require && std::string(require) == "1" ? 1 : 77);
}

}  // namespace credgate::http::test
