// SPDX-License-Identifier: Apache-2.0
// HTTPS between client and server with a CA and certificates made by the openssl command in a
// temp dir: verification, SNI, hostname and IP checks, untrusted CAs.
#include "http/client_factory.hpp"
#include "http/server.hpp"
#include "runtime/event_loop.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

using namespace credgate;
using namespace credgate::http;
using credgate::runtime::EventLoop;
using credgate::http::test::exchange;
using credgate::http::test::TempDir;

namespace {

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// ca.pem/ca.key, and for each name a <name>.pem/<name>.key signed by the CA with the given SANs.
struct Pki {
    Pki(const Pki&) = delete;
    TempDir dir;
    std::string ca;

    Pki() {
        if (sh("command -v openssl") != 0) test::skip_all("the openssl command is not installed");
        ca = path("ca.pem");
        REQUIRE(sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
                   "/CN=credgate-test-ca -addext basicConstraints=critical,CA:TRUE -addext "
                   "keyUsage=critical,keyCertSign -keyout " +
                   path("ca.key") + " -out " + ca) == 0);
    }

    std::string path(const std::string& name) const { return (dir.path / name).string(); }

    void issue(const std::string& name, const std::string& san) {
        std::ofstream(path(name + ".ext")) << "subjectAltName=" << san << "\nextendedKeyUsage=serverAuth\n";
        REQUIRE(sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name + " -keyout " +
                   path(name + ".key") + " -out " + path(name + ".csr")) == 0);
        REQUIRE(sh("openssl x509 -req -days 1 -in " + path(name + ".csr") + " -CA " + ca + " -CAkey " +
                   path("ca.key") + " -CAcreateserial -extfile " + path(name + ".ext") + " -out " +
                   path(name + ".pem")) == 0);
    }
};

Pki& pki() {
    static Pki p;
    static bool issued = (p.issue("good", "DNS:localhost,IP:127.0.0.1"), p.issue("other", "DNS:other.example"), true);
    (void)issued;
    return p;
}

std::unique_ptr<Server> tls_server(EventLoop& loop, const std::string& name, std::vector<std::string>* sni = nullptr) {
    ServerOptions o;
    o.tls_cert = pki().path(name + ".pem");
    o.tls_key = pki().path(name + ".key");
    return test::start_server(loop, o, [sni](const ServerRequest& req, Responder respond) {
        if (sni) sni->push_back(req.tls_server_name);
        respond(text_response(200, "secure " + req.path));
    });
}

std::unique_ptr<Client> trusting_client(EventLoop& loop) { return test::new_client(loop, {.ca_file = pki().ca}); }

Request get(const std::string& host, const Server& s, const std::string& path) {
    Request r;
    r.url = "https://" + host + ":" + std::to_string(s.port()) + path;
    r.timeout = Duration{10000};
    return r;
}

}  // namespace

TEST_CASE("HTTPS with a trusted CA sends SNI, verifies the host name and reuses the connection") {
    EventLoop loop;
    std::vector<std::string> sni;
    auto server = tls_server(loop, "good", &sni);
    auto client = trusting_client(loop);

    auto r = exchange(loop, *client, get("localhost", *server, "/v1/sys/health"));
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    CHECK(r->status == 200);
    CHECK(r->body == "secure /v1/sys/health");
    REQUIRE(exchange(loop, *client, get("localhost", *server, "/again")));
    CHECK(server->accepted_connections() == 1);
    CHECK(sni == std::vector<std::string>{"localhost", "localhost"});

    // An IP literal is checked against the IP SAN and is not sent as SNI.
    auto by_ip = exchange(loop, *client, get("127.0.0.1", *server, "/ip"));
    REQUIRE_MESSAGE(by_ip, (by_ip ? "" : by_ip.error().message));
    CHECK(sni.back().empty());
}

TEST_CASE("HTTPS refuses a certificate for another host name") {
    EventLoop loop;
    auto server = tls_server(loop, "other");
    auto client = trusting_client(loop);
    auto r = exchange(loop, *client, get("localhost", *server, "/"));
    REQUIRE(!r);
    CHECK(r.error().kind == ErrorKind::transport);
    CHECK(r.error().message.starts_with("TLS handshake with localhost:" + std::to_string(server->port())));
    CHECK(r.error().message.find("certificate verify failed") != std::string::npos);

    auto by_ip = exchange(loop, *client, get("127.0.0.1", *server, "/"));
    REQUIRE(!by_ip);
    CHECK(by_ip.error().kind == ErrorKind::transport);
}

TEST_CASE("HTTPS refuses a server whose CA is not trusted") {
    EventLoop loop;
    auto server = tls_server(loop, "good");
    auto client = make_client(loop);  // system CAs only
    REQUIRE(client);
    auto r = exchange(loop, **client, get("localhost", *server, "/"));
    REQUIRE(!r);
    CHECK(r.error().message.find("certificate verify failed") != std::string::npos);

    auto missing = make_client(loop, ClientOptions{.ca_file = pki().path("absent.pem")});
    REQUIRE(!missing);
    CHECK(missing.error().kind == ErrorKind::config);
    CHECK(missing.error().message.find("absent.pem") != std::string::npos);
}

TEST_CASE("a TLS server with a missing key file fails to start, naming the file") {
    EventLoop loop;
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tls_cert = pki().path("good.pem");
    o.tls_key = pki().path("missing.key");
    auto server = Server::create(loop, o, [](const ServerRequest&, Responder) {});
    REQUIRE(!server);
    CHECK(server.error().kind == ErrorKind::config);
    CHECK(server.error().message.find("missing.key") != std::string::npos);
}
