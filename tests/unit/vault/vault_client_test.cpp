// SPDX-License-Identifier: Apache-2.0
// The client's requests on the wire (paths, headers, bodies) and the mapping of real HTTP answers,
// over the real HTTP client and a loopback server on port 0 that answers with recorded bodies.
#include "fixture.hpp"
#include "http/client_factory.hpp"
#include "http/server.hpp"
#include "runtime/event_loop.hpp"
#include "vault/vault_client.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <optional>

using namespace credgate;
using namespace credgate::vault;

namespace {

struct Answer {
    int status = 200;
    std::string body;
    http::Headers headers;
};

// A loopback HTTP server that records every request and answers from a queue.
class RecordedVault {
public:
    explicit RecordedVault(runtime::EventLoop& loop) {
        http::ServerOptions options;
        options.listen = "127.0.0.1:0";
        auto s = http::Server::create(loop, options,
                                      [this](const http::ServerRequest& r, http::Responder respond) {
                                          requests.push_back(r);
                                          Answer a = answers.empty() ? Answer{500, R"({"errors":["unscripted"]})", {}}
                                                                     : answers.front();
                                          if (!answers.empty()) answers.pop_front();
                                          a.headers.emplace_back("Content-Type", "application/json");
                                          respond(http::ServerResponse{a.status, a.headers, a.body});
                                      });
        REQUIRE(s);
        server = std::move(*s);
    }
    std::string address() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
    void answer(int status, std::string body, http::Headers headers = {}) {
        answers.push_back(Answer{status, std::move(body), std::move(headers)});
    }

    std::unique_ptr<http::Server> server;
    std::deque<Answer> answers;
    std::vector<http::ServerRequest> requests;
};

struct Fixture {
    runtime::EventLoop loop;
    RecordedVault vault{loop};
    std::unique_ptr<http::Client> http_client;

    Fixture() {
        auto c = http::make_client(loop);
        REQUIRE(c);
        http_client = std::move(*c);
    }
    ~Fixture() {
        http_client.reset();
        vault.server->close();
    }
    policy::VaultSource source() const {
        policy::VaultSource s;
        s.address = vault.address() + "/";
        s.jwt_auth_method_path = "jwt";
        s.role = "openai-apikeys";
        s.path = "openai/creds/my-role";
        s.audience = {"vault"};
        return s;
    }
    template <typename T>
    VaultResult<T> wait(std::optional<VaultResult<T>>& slot) {
        loop.run_until([&] { return slot.has_value(); });
        REQUIRE(slot);
        return std::move(*slot);
    }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "login posts role and jwt as JSON to the auth mount without a token") {
    auto c = VaultClient::create(*http_client, source());
    REQUIRE(c);
    vault.answer(200, fixture("login-success-kubernetes.json"));
    std::optional<VaultResult<LoginResult>> got;
    c->login("eyJ.a\"b.c\n", [&](VaultResult<LoginResult> r) { got = std::move(r); });
    auto r = wait(got);
    REQUIRE(vault.requests.size() == 1);
    const auto& req = vault.requests[0];
    CHECK(req.method == "POST");
    CHECK(req.target == "/v1/auth/jwt/login");
    CHECK(req.body == R"({"role":"openai-apikeys","jwt":"eyJ.a\"b.c"})");
    CHECK_FALSE(req.header("X-Vault-Token"));
    REQUIRE(r);
    CHECK(r->accessor == "qWHb27FOn766whSHHpNizxfD");
    CHECK(r->token.reveal() == "hvs.token");
}

TEST_CASE_FIXTURE(Fixture, "read sends the token, the namespace and params as an encoded query") {
    auto s = source();
    s.namespace_ = "team-a";
    s.params = {{"ttl", "15m"}, {"x y", "a&b"}};
    auto c = VaultClient::create(*http_client, s);
    REQUIRE(c);
    vault.answer(200, fixture("secret-openai-creds.json"));
    std::optional<VaultResult<SecretResult>> got;
    c->read(Token("hvs.abc"), [&](VaultResult<SecretResult> r) { got = std::move(r); }, true);
    auto r = wait(got);
    REQUIRE(vault.requests.size() == 1);
    const auto& req = vault.requests[0];
    CHECK(req.method == "GET");
    CHECK(req.target == "/v1/openai/creds/my-role?ttl=15m&x%20y=a%26b");
    CHECK(req.header("X-Vault-Token") == "hvs.abc");
    CHECK(req.header("X-Vault-Namespace") == "team-a");
    REQUIRE(r);
    CHECK(r->lease_duration == std::chrono::seconds{3600});
    CHECK(c->read_url() == vault.address() + "/v1/openai/creds/my-role?ttl=15m&x%20y=a%26b");
}

TEST_CASE_FIXTURE(Fixture, "an ACL denial reaches the callback classified, with the read's context") {
    auto c = VaultClient::create(*http_client, source());
    REQUIRE(c);
    vault.answer(403, fixture("error-acl-permission-denied.json"));
    std::optional<VaultResult<SecretResult>> got;
    c->read(Token("hvs.abc"), [&](VaultResult<SecretResult> r) { got = std::move(r); }, true);
    auto r = wait(got);
    REQUIRE_FALSE(r);
    CHECK(r.error().error_class == ErrorClass::permission);
    CHECK(r.error().http_status == 403);
    CHECK(r.error().explanation.find("openai/creds/my-role") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "a 429 keeps its Retry-After header") {
    auto c = VaultClient::create(*http_client, source());
    REQUIRE(c);
    vault.answer(429, fixture("error-rate-limit-quota.json"), {{"Retry-After", "7"}});
    std::optional<VaultResult<SecretResult>> got;
    c->read(Token("hvs.abc"), [&](VaultResult<SecretResult> r) { got = std::move(r); });
    auto r = wait(got);
    REQUIRE_FALSE(r);
    CHECK(r.error().error_class == ErrorClass::rate_limited);
    CHECK(r.error().retry_after == Duration{std::chrono::seconds{7}});
}

TEST_CASE_FIXTURE(Fixture, "a standby's 307 is followed to the active node with the token") {
    RecordedVault active(loop);
    active.answer(200, fixture("secret-openai-creds.json"));
    vault.answer(307, "", {{"Location", active.address() + "/v1/openai/creds/my-role"}});
    auto c = VaultClient::create(*http_client, source());
    REQUIRE(c);
    std::optional<VaultResult<SecretResult>> got;
    c->read(Token("hvs.abc"), [&](VaultResult<SecretResult> r) { got = std::move(r); });
    auto r = wait(got);
    REQUIRE(r);
    REQUIRE(active.requests.size() == 1);
    CHECK(active.requests[0].header("X-Vault-Token") == "hvs.abc");
    active.server->close();
}

TEST_CASE_FIXTURE(Fixture, "a refused connection is a retryable transport error") {
    auto s = source();
    const auto port = vault.server->port();
    vault.server->close();
    s.address = "http://127.0.0.1:" + std::to_string(port);
    auto c = VaultClient::create(*http_client, s);
    REQUIRE(c);
    std::optional<VaultResult<Empty>> got;
    c->revoke_self(Token("hvs.abc"), [&](VaultResult<Empty> r) { got = std::move(r); });
    auto r = wait(got);
    REQUIRE_FALSE(r);
    CHECK(r.error().error_class == ErrorClass::transport);
    CHECK(r.error().retryable);
}

TEST_CASE_FIXTURE(Fixture, "revoke-self accepts 204 with no body; lease renew sends the lease id") {
    auto c = VaultClient::create(*http_client, source());
    REQUIRE(c);
    vault.answer(204, "");
    std::optional<VaultResult<Empty>> revoked;
    c->revoke_self(Token("hvs.abc"), [&](VaultResult<Empty> r) { revoked = std::move(r); });
    CHECK(wait(revoked).has_value());
    CHECK(vault.requests[0].target == "/v1/auth/token/revoke-self");
    CHECK(vault.requests[0].method == "POST");

    vault.answer(200, fixture("lease-renew-success.json"));
    std::optional<VaultResult<LeaseRenewal>> renewed;
    c->renew_lease(Token("hvs.abc"), "database/creds/x/1", std::chrono::seconds{600},
                   [&](VaultResult<LeaseRenewal> r) { renewed = std::move(r); });
    CHECK(wait(renewed).has_value());
    CHECK(vault.requests[1].method == "PUT");
    CHECK(vault.requests[1].target == "/v1/sys/leases/renew");
    CHECK(vault.requests[1].body == R"({"lease_id":"database/creds/x/1","increment":600})");

    vault.answer(200, fixture("login-success-jwt.json"));
    std::optional<VaultResult<LoginResult>> self;
    c->renew_self(Token("hvs.abc"), std::nullopt, [&](VaultResult<LoginResult> r) { self = std::move(r); });
    CHECK(wait(self).has_value());
    CHECK(vault.requests[2].target == "/v1/auth/token/renew-self");
    CHECK(vault.requests[2].body.empty());
}

TEST_CASE_FIXTURE(Fixture, "an oversized success body is a protocol error") {
    auto c = VaultClient::create(*http_client, source());
    REQUIRE(c);
    vault.answer(200, R"({"lease_id":"","data":{"k":")" + std::string(300 * 1024, 'a') + R"("}})");
    std::optional<VaultResult<SecretResult>> got;
    c->read(Token("hvs.abc"), [&](VaultResult<SecretResult> r) { got = std::move(r); });
    auto r = wait(got);
    REQUIRE_FALSE(r);
    CHECK(r.error().error_class == ErrorClass::protocol);
}

TEST_CASE("rejects sources that could not work") {
    runtime::EventLoop loop;
    auto client = http::make_client(loop);
    REQUIRE(client);
    policy::VaultSource base;
    base.address = "http://127.0.0.1:8200";
    base.role = "r";
    base.path = "openai/creds/my-role";
    auto s = base;
    s.address = "localhost:8200";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.address = "http://user@host:8200";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.address = "http://host:8200/prefix";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.address = "http://host:8200//";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.address = "http://[vault]:8200";
    auto bracketed = VaultClient::create(**client, s);
    REQUIRE_FALSE(bracketed);
    CHECK(bracketed.error().message == "vault: address 'http://[vault]:8200': '[vault]' is not an IPv6 address");
    s = base;
    s.path = "openai/../sys/raw";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.path = "openai/creds/a b";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.namespace_ = "a\r\nX-Evil: 1";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.role = "";
    CHECK_FALSE(VaultClient::create(**client, s));
    s = base;
    s.method = "POST";
    auto post = VaultClient::create(**client, s);
    REQUIRE_FALSE(post);
    CHECK(post.error().kind == ErrorKind::unsupported);
    s = base;
    s.jwt_auth_method_path = "auth/jwt-prod";
    CHECK(VaultClient::create(**client, s));
}
