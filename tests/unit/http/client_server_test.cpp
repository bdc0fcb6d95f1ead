// SPDX-License-Identifier: Apache-2.0
// Client against server on 127.0.0.1 port 0 and on a unix socket: exchanges, keep-alive, limits,
// deadlines, redirects and error messages.
#include "http/client_factory.hpp"
#include "http/server.hpp"
#include "runtime/event_loop.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include <fstream>
#include <thread>

using namespace credgate;
using namespace credgate::http;
using credgate::runtime::EventLoop;
using credgate::http::test::exchange;
using credgate::http::test::new_client;
using credgate::http::test::TempDir;

namespace {

void echo(const ServerRequest& req, Responder respond) {
    ServerResponse r;
    r.headers.emplace_back("X-Method", req.method);
    r.headers.emplace_back("X-Path", req.path);
    r.headers.emplace_back("X-Query", req.query);
    r.headers.emplace_back("X-Token", req.header("x-vault-token").value_or(""));
    if (req.peer) r.headers.emplace_back("X-Peer-Uid", std::to_string(req.peer->uid));
    if (req.peer) r.headers.emplace_back("X-Peer-Pid", std::to_string(req.peer->pid));
    r.body = req.body;
    respond(std::move(r));
}

std::unique_ptr<Server> make_server(EventLoop& loop, ServerOptions opts = {}, Handler handler = echo) {
    return test::start_server(loop, std::move(opts), std::move(handler));
}

// A plain TCP connection to the server on loopback, for bytes no client would send.
int connect_loopback(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

ClientOptions without_keep_alive() {
    ClientOptions o;
    o.keep_alive_idle = Duration::zero();
    return o;
}

ClientOptions in_flight(size_t max) {
    ClientOptions o;
    o.max_in_flight_per_host = max;
    return o;
}

ServerOptions listen_on(const std::string& where) {
    ServerOptions o;
    o.listen = where;
    return o;
}

std::string base(const Server& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }

Request get(std::string url) {
    Request r;
    r.url = std::move(url);
    return r;
}

// A loopback port with nothing listening: bound, then closed.
uint16_t closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("GET and POST round-trip between client and server") {
    EventLoop loop;
    auto server = make_server(loop);
    CHECK(server->port() != 0);
    auto client = new_client(loop);

    Request g = get(base(*server) + "/v1/sys/health?standbyok=true");
    g.headers.emplace_back("X-Vault-Token", "t0k3n");
    auto r1 = exchange(loop, *client, g);
    REQUIRE(r1);
    CHECK(r1->status == 200);
    CHECK(r1->header("x-method") == "GET");
    CHECK(r1->header("X-Path") == "/v1/sys/health");
    CHECK(r1->header("X-Query") == "standbyok=true");
    CHECK(r1->header("X-Token") == "t0k3n");

    Request post = get(base(*server) + "/v1/auth/jwt/login");
    post.method = "POST";
    post.body = R"({"role":"r","jwt":"x"})";
    auto r2 = exchange(loop, *client, post);
    REQUIRE(r2);
    CHECK(r2->header("X-Method") == "POST");
    CHECK(r2->body == post.body);
}

TEST_CASE("sequential requests reuse one keep-alive connection") {
    EventLoop loop;
    auto server = make_server(loop);
    auto client = new_client(loop);
    for (int i = 0; i < 3; ++i) REQUIRE(exchange(loop, *client, get(base(*server) + "/x")));
    CHECK(server->accepted_connections() == 1);

    SUBCASE("and open a new one when keep-alive is off") {
        auto no_reuse = new_client(loop, without_keep_alive());
        for (int i = 0; i < 3; ++i) REQUIRE(exchange(loop, *no_reuse, get(base(*server) + "/x")));
        CHECK(server->accepted_connections() == 4);
    }
}

TEST_CASE("a pooled connection the server closed while idle is replaced transparently") {
    EventLoop loop;
    ServerOptions opts;
    opts.idle_timeout = Duration{20};
    auto server = make_server(loop, opts);
    auto client = new_client(loop);
    REQUIRE(exchange(loop, *client, get(base(*server) + "/a")));
    loop.run_until([&] { return server->open_connections() == 0; });
    REQUIRE(server->open_connections() == 0);
    auto r = exchange(loop, *client, get(base(*server) + "/b"));
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    CHECK(r->header("X-Path") == "/b");
    CHECK(server->accepted_connections() == 2);
}

TEST_CASE("in-flight requests per host are bounded; excess requests queue") {
    EventLoop loop;
    std::vector<Responder> held;
    auto server = make_server(loop, {}, [&](const ServerRequest& req, Responder respond) {
        (void)req;
        held.push_back(respond);
    });
    auto run_three = [&](size_t max_in_flight) {
        held.clear();
        auto client = new_client(loop, in_flight(max_in_flight));
        size_t before = server->accepted_connections();
        int done = 0;
        for (int i = 0; i < 3; ++i)
            client->send(get(base(*server) + "/slow"), [&](Result<Response> r) {
                CHECK(r);
                ++done;
            });
        // Answer whatever has arrived until all three completed.
        while (done < 3) {
            loop.run_until([&] { return !held.empty() || done == 3; });
            auto batch = std::move(held);
            held.clear();
            for (auto& h : batch) h(text_response(200, "ok"));
        }
        return server->accepted_connections() - before;
    };
    CHECK(run_three(1) == 1);  // serialized on one connection
    CHECK(run_three(4) == 3);  // concurrent, one connection each
}

TEST_CASE("the deadline starts when a request is sent, not while it waits for an in-flight slot") {
    EventLoop loop;
    std::vector<std::unique_ptr<Timer>> answers;
    // Each request answered 300 ms after it arrives; one at a time, four of them: the last is sent
    // 900 ms after it was queued, and answered 300 ms later, well within its own 1000 ms.
    auto server = make_server(loop, {}, [&](const ServerRequest&, Responder respond) {
        answers.push_back(loop.clock().make_timer());
        answers.back()->arm(loop.clock().now() + Duration{300},
                            [respond] { respond(text_response(200, "ok")); });
    });
    auto client = new_client(loop, in_flight(1));
    int ok = 0, done = 0;
    std::vector<std::string> errors;
    for (int i = 0; i < 4; ++i) {
        Request r = get(base(*server) + "/slow");
        r.timeout = Duration{1000};
        client->send(r, [&](Result<Response> res) {
            ++done;
            if (res) ++ok;
            else errors.push_back(res.error().message);
        });
    }
    loop.run_until([&] { return done == 4; });
    CHECK(errors.empty());
    CHECK(ok == 4);
}

TEST_CASE("the response body limit is enforced by the client") {
    EventLoop loop;
    auto server = make_server(loop, {}, [](const ServerRequest&, Responder respond) {
        respond(text_response(200, std::string(5000, 'x')));
    });
    auto client = new_client(loop);
    Request r = get(base(*server) + "/big");
    r.body_limit = 1000;
    auto res = exchange(loop, *client, r);
    REQUIRE(!res);
    CHECK(res.error().kind == ErrorKind::protocol);
    CHECK(res.error().message.find("1000 bytes") != std::string::npos);

    r.body_limit = 5000;
    CHECK(exchange(loop, *client, r));
}

TEST_CASE("the request body and header limits are enforced by the server") {
    EventLoop loop;
    ServerOptions opts;
    opts.max_body_bytes = 100;
    auto server = make_server(loop, opts);
    auto client = new_client(loop);
    Request r = get(base(*server) + "/upload");
    r.method = "POST";
    r.body = std::string(101, 'y');
    auto res = exchange(loop, *client, r);
    REQUIRE(res);
    CHECK(res->status == 413);

    r.body = std::string(100, 'y');
    res = exchange(loop, *client, r);
    REQUIRE(res);
    CHECK(res->status == 200);

    Request h = get(base(*server) + "/h");
    h.headers.emplace_back("X-Padding", std::string(kServerMaxHeaderBytes, 'p'));
    res = exchange(loop, *client, h);
    REQUIRE(res);
    CHECK(res->status == 431);
}

TEST_CASE("a request to a server that never answers fails at its deadline") {
    EventLoop loop;
    std::vector<Responder> never;
    auto server = make_server(loop, {}, [&](const ServerRequest&, Responder respond) { never.push_back(respond); });
    auto client = new_client(loop);
    Request r = get(base(*server) + "/hang");
    r.timeout = Duration{150};
    auto start = std::chrono::steady_clock::now();
    auto res = exchange(loop, *client, r);
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(!res);
    CHECK(res.error().kind == ErrorKind::transport);
    CHECK(res.error().message == "read response from 127.0.0.1:" + std::to_string(server->port()) +
                                    ": timed out after 150 ms");
    CHECK(took >= Duration{150});
    CHECK(never.size() == 1);
    // A late answer to an abandoned exchange is harmless.
    never.front()(text_response(200, "late"));
}

TEST_CASE("307 and 308 are followed with the same method and body") {
    EventLoop loop;
    auto target = make_server(loop);
    std::string target_base = base(*target);
    auto server = make_server(loop, {}, [&](const ServerRequest& req, Responder respond) {
        ServerResponse r;
        if (req.path == "/relative") {
            r.status = 307;
            r.headers.emplace_back("Location", "/final?from=relative");
        } else if (req.path == "/absolute") {
            r.status = 308;
            r.headers.emplace_back("Location", target_base + "/elsewhere");
        } else if (req.path == "/loop") {
            r.status = 307;
            r.headers.emplace_back("Location", "/loop");
        } else {
            return echo(req, respond);
        }
        respond(std::move(r));
    });
    auto client = new_client(loop);

    Request r = get(base(*server) + "/relative");
    r.method = "PUT";
    r.body = R"({"jwt":"abc"})";
    auto res = exchange(loop, *client, r);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->header("X-Method") == "PUT");
    CHECK(res->header("X-Path") == "/final");
    CHECK(res->header("X-Query") == "from=relative");
    CHECK(res->body == r.body);

    r.url = base(*server) + "/absolute";
    r.method = "POST";
    res = exchange(loop, *client, r);
    REQUIRE(res);
    CHECK(res->header("X-Method") == "POST");
    CHECK(res->header("X-Path") == "/elsewhere");
    CHECK(res->body == r.body);
    CHECK(target->accepted_connections() == 1);

    r.url = base(*server) + "/loop";
    res = exchange(loop, *client, r);
    REQUIRE(!res);
    CHECK(res.error().kind == ErrorKind::protocol);
    CHECK(res.error().message.find("too many redirects") != std::string::npos);
}

TEST_CASE("a refused connection names the address and the step") {
    EventLoop loop;
    auto client = new_client(loop);
    uint16_t port = closed_port();
    auto res = exchange(loop, *client, get("http://127.0.0.1:" + std::to_string(port) + "/v1/sys/health"));
    REQUIRE(!res);
    CHECK(res.error().kind == ErrorKind::transport);
    CHECK(res.error().message == "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");

    auto bad = exchange(loop, *client, get("ftp://127.0.0.1/"));
    REQUIRE(!bad);
    CHECK(bad.error().kind == ErrorKind::invalid_argument);
}

TEST_CASE("a unix socket server is owner-only and reports the peer's credentials") {
    TempDir dir;
    std::string path = (dir.path / "control.sock").string();
    EventLoop loop;

    // A stale socket file from a previous run is replaced.
    int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::bind(stale, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(stale);

    auto server = make_server(loop, listen_on(path));
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(server->port() == 0);

    auto client = new_client(loop);
    auto res = exchange(loop, *client, get("unix:" + path + ":/v1/status?verbose=1"));
    REQUIRE_MESSAGE(res, (res ? "" : res.error().message));
    CHECK(res->header("X-Path") == "/v1/status");
    CHECK(res->header("X-Query") == "verbose=1");
    CHECK(res->header("X-Peer-Uid") == std::to_string(::getuid()));
    CHECK(res->header("X-Peer-Pid") == std::to_string(::getpid()));

    server->close();
    CHECK(!std::filesystem::exists(path));

    SUBCASE("a regular file at the socket path is not replaced") {
        std::ofstream(path) << "not a socket";
        auto refused = Server::create(loop, listen_on(path), echo);
        REQUIRE(!refused);
        CHECK(refused.error().kind == ErrorKind::config);
        CHECK(std::filesystem::is_regular_file(path));
    }
}

TEST_CASE("fetch_sync runs one exchange on its own loop") {
    TempDir dir;
    std::string path = (dir.path / "ctl.sock").string();
    EventLoop server_loop;
    auto server = make_server(server_loop, listen_on(path));
    std::thread serving([&] { server_loop.run(); });

    auto res = fetch_sync(get("unix:" + path + ":/v1/status"));
    server_loop.post([&] {
        server->close();
        server_loop.stop();
    });
    serving.join();
    REQUIRE_MESSAGE(res, (res ? "" : res.error().message));
    CHECK(res->status == 200);
    CHECK(res->header("X-Path") == "/v1/status");

    auto missing = fetch_sync(get("unix:" + (dir.path / "absent.sock").string() + ":/v1/status"));
    REQUIRE(!missing);
    CHECK(missing.error().kind == ErrorKind::transport);
    CHECK(missing.error().message.find("absent.sock") != std::string::npos);
}

TEST_CASE("a request queued behind the in-flight bound waits at most max_queue_wait") {
    EventLoop loop;
    std::vector<Responder> never;
    auto server = make_server(loop, {}, [&](const ServerRequest&, Responder respond) { never.push_back(respond); });
    auto options = in_flight(1);
    options.max_queue_wait = Duration{50};
    auto client = new_client(loop, options);
    std::optional<Result<Response>> running;
    std::optional<Result<Response>> queued;
    Request r = get(base(*server) + "/hang");
    r.timeout = Duration{200};
    client->send(r, [&](Result<Response> res) { running = std::move(res); });
    client->send(r, [&](Result<Response> res) { queued = std::move(res); });
    loop.run_until([&] { return running && queued; });
    REQUIRE(running);
    REQUIRE(queued);
    std::string where = "127.0.0.1:" + std::to_string(server->port());
    REQUIRE(!*running);
    REQUIRE(!*queued);
    CHECK(running->error().message == "read response from " + where + ": timed out after 200 ms");
    CHECK(queued->error().message ==
          "wait for a connection to " + where + ": not sent after waiting 50 ms for a free slot (in-flight limit 1 per host)");
    CHECK(never.size() == 1);
}

TEST_CASE("destroying the client drops its pending completions") {
    EventLoop loop;
    std::vector<Responder> held;
    auto server = make_server(loop, {}, [&](const ServerRequest&, Responder respond) { held.push_back(respond); });
    auto client = new_client(loop);
    bool called = false;
    client->send(get(base(*server) + "/x"), [&](Result<Response>) { called = true; });
    loop.run_until([&] { return !held.empty(); });
    client.reset();
    held.front()(text_response(200, "too late"));
    loop.run_until([&] { return server->open_connections() == 0; });
    CHECK(server->open_connections() == 0);
    CHECK(!called);
}

TEST_CASE("header values with line breaks are refused before sending") {
    EventLoop loop;
    auto server = make_server(loop);
    auto client = new_client(loop);
    Request r = get(base(*server) + "/x");
    r.headers.emplace_back("X-Vault-Token", "abc\r\nX-Injected: 1");
    auto res = exchange(loop, *client, r);
    REQUIRE(!res);
    CHECK(res.error().kind == ErrorKind::invalid_argument);
    CHECK(server->accepted_connections() == 0);
}

TEST_CASE("a server at its connection limit closes new connections") {
    EventLoop loop;
    ServerOptions opts;
    opts.max_connections = 1;
    std::vector<Responder> held;
    auto server = make_server(loop, opts, [&](const ServerRequest&, Responder respond) { held.push_back(respond); });
    auto first = new_client(loop);
    auto second = new_client(loop);
    std::optional<Result<Response>> a;
    first->send(get(base(*server) + "/a"), [&](Result<Response> r) { a = std::move(r); });
    loop.run_until([&] { return !held.empty(); });
    auto b = exchange(loop, *second, get(base(*server) + "/b"));
    REQUIRE(!b);
    CHECK(b.error().kind == ErrorKind::transport);
    held.front()(text_response(200, "first"));
    loop.run_until([&] { return a.has_value(); });
    REQUIRE(a->has_value());
    CHECK((*a)->body == "first");
}

TEST_CASE("at its connection limit, a new connection takes the place of the oldest that holds no request") {
    EventLoop loop;
    ServerOptions opts;
    opts.max_connections = 2;
    auto server = make_server(loop, opts);
    auto slow_client = [&] {
        int fd = connect_loopback(server->port());
        REQUIRE(::write(fd, "GET / HTTP/1.1\r\nHo", 18) == 18);  // a request that trickles in
        return fd;
    };
    int oldest = slow_client();
    loop.run_until([&] { return server->open_connections() == 1; });
    int newer = slow_client();
    loop.run_until([&] { return server->open_connections() == 2; });
    // A prompt client is served although both slots are held by slow ones; the oldest slow one goes.
    auto client = new_client(loop);
    auto r = exchange(loop, *client, get(base(*server) + "/prompt"));
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
    char byte = 0;
    CHECK(::read(oldest, &byte, 1) <= 0);  // closed by the server without an answer (FIN or RST)
    pollfd p{newer, POLLIN, 0};
    CHECK(::poll(&p, 1, 0) == 0);  // the newer slow client still has its connection
    ::close(oldest);
    ::close(newer);
}

TEST_CASE("the server closes a connection that sends nothing within the read timeout") {
    EventLoop loop;
    ServerOptions opts;
    opts.read_timeout = Duration{50};
    auto server = make_server(loop, opts);
    int fd = connect_loopback(server->port());
    REQUIRE(::write(fd, "GET / HTTP/1.1\r\n", 16) == 16);  // an unfinished header
    loop.run_until([&] { return server->accepted_connections() == 1; });
    CHECK(server->open_connections() == 1);
    loop.run_until([&] { return server->open_connections() == 0; });
    CHECK(server->open_connections() == 0);
    char byte = 0;
    CHECK(::read(fd, &byte, 1) == 0);  // closed by the server, no response
    ::close(fd);
}
