// SPDX-License-Identifier: Apache-2.0
// The client builds Vault's request shapes (paths, headers, bodies) and maps answers; the HTTP
// side is a recorder that answers with recorded bodies (the loopback tests against the
// development server exercise real sockets).
#include "fixture.hpp"
#include "vault/client.hpp"

#include <doctest/doctest.h>

#include <optional>

using namespace credgate;
using namespace credgate::vault;

namespace {

class Recorder final : public http::Client {
public:
    void send(http::Request request, http::Completion done) override {
        requests.push_back(std::move(request));
        done(next ? std::move(*next) : Result<http::Response>(fail(ErrorKind::transport, "no answer")));
    }
    std::vector<http::Request> requests;
    std::optional<Result<http::Response>> next;

    void answer(int status, std::string body) {
        http::Response r;
        r.status = status;
        r.body = std::move(body);
        next = r;
    }
    std::optional<std::string> header(size_t i, std::string_view name) const {
        for (const auto& [k, v] : requests.at(i).headers)
            if (k == name) return v;
        return std::nullopt;
    }
};

policy::VaultSource source() {
    policy::VaultSource s;
    s.address = "http://127.0.0.1:8200/";
    s.jwt_auth_method_path = "jwt";
    s.role = "openai-apikeys";
    s.path = "openai/creds/my-role";
    s.audience = {"vault"};
    return s;
}

}  // namespace

TEST_CASE("login posts role and jwt as JSON to the auth mount without a token") {
    Recorder http;
    auto c = VaultClient::create(http, source());
    REQUIRE(c);
    http.answer(200, fixture("login-success-kubernetes.json"));
    std::optional<VaultResult<LoginResult>> got;
    c->login("eyJ.a\"b.c\n", [&](VaultResult<LoginResult> r) { got = std::move(r); });
    REQUIRE(http.requests.size() == 1);
    CHECK(http.requests[0].method == "POST");
    CHECK(http.requests[0].url == "http://127.0.0.1:8200/v1/auth/jwt/login");
    CHECK(http.requests[0].body == R"({"role":"openai-apikeys","jwt":"eyJ.a\"b.c"})");
    CHECK_FALSE(http.header(0, "X-Vault-Token"));
    REQUIRE(got);
    REQUIRE(*got);
    CHECK((*got)->accessor == "qWHb27FOn766whSHHpNizxfD");
}

TEST_CASE("read sends the token, the namespace and params as an encoded query") {
    Recorder http;
    auto s = source();
    s.namespace_ = "team-a";
    s.params = {{"ttl", "15m"}, {"x y", "a&b"}};
    auto c = VaultClient::create(http, s);
    REQUIRE(c);
    http.answer(200, fixture("secret-openai-creds.json"));
    std::optional<VaultResult<SecretResult>> got;
    c->read(Token("hvs.abc"), [&](VaultResult<SecretResult> r) { got = std::move(r); }, true);
    REQUIRE(http.requests.size() == 1);
    CHECK(http.requests[0].method == "GET");
    CHECK(http.requests[0].url == "http://127.0.0.1:8200/v1/openai/creds/my-role?ttl=15m&x%20y=a%26b");
    CHECK(http.header(0, "X-Vault-Token") == "hvs.abc");
    CHECK(http.header(0, "X-Vault-Namespace") == "team-a");
    REQUIRE(got);
    REQUIRE(*got);
    CHECK((*got)->lease_duration == std::chrono::seconds{3600});
}

TEST_CASE("an error answer reaches the callback classified, with the read's context") {
    Recorder http;
    auto c = VaultClient::create(http, source());
    REQUIRE(c);
    http.answer(403, fixture("error-acl-permission-denied.json"));
    std::optional<VaultResult<SecretResult>> got;
    c->read(Token("hvs.abc"), [&](VaultResult<SecretResult> r) { got = std::move(r); }, true);
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error().error_class == ErrorClass::permission);
    CHECK(got->error().explanation.find("openai/creds/my-role") != std::string::npos);
}

TEST_CASE("a transport failure is retryable") {
    Recorder http;
    auto c = VaultClient::create(http, source());
    REQUIRE(c);
    std::optional<VaultResult<Empty>> got;
    c->revoke_self(Token("hvs.abc"), [&](VaultResult<Empty> r) { got = std::move(r); });
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error().error_class == ErrorClass::transport);
    CHECK(got->error().retryable);
    CHECK(http.requests[0].url == "http://127.0.0.1:8200/v1/auth/token/revoke-self");
}

TEST_CASE("revoke-self accepts 204 with no body; lease renew sends the lease id") {
    Recorder http;
    auto c = VaultClient::create(http, source());
    REQUIRE(c);
    http.answer(204, "");
    std::optional<VaultResult<Empty>> revoked;
    c->revoke_self(Token("hvs.abc"), [&](VaultResult<Empty> r) { revoked = std::move(r); });
    REQUIRE(revoked);
    CHECK(revoked->has_value());
    http.answer(200, fixture("lease-renew-success.json"));
    std::optional<VaultResult<LeaseRenewal>> renewed;
    c->renew_lease(Token("hvs.abc"), "database/creds/x/1", std::chrono::seconds{600},
                   [&](VaultResult<LeaseRenewal> r) { renewed = std::move(r); });
    CHECK(http.requests[1].method == "PUT");
    CHECK(http.requests[1].url == "http://127.0.0.1:8200/v1/sys/leases/renew");
    CHECK(http.requests[1].body == R"({"lease_id":"database/creds/x/1","increment":600})");
    REQUIRE(renewed);
    CHECK(renewed->has_value());
}

TEST_CASE("rejects sources that could not work") {
    Recorder http;
    auto s = source();
    s.address = "localhost:8200";
    CHECK_FALSE(VaultClient::create(http, s));
    s = source();
    s.address = "http://user@host:8200";
    CHECK_FALSE(VaultClient::create(http, s));
    s = source();
    s.path = "openai/../sys/raw";
    CHECK_FALSE(VaultClient::create(http, s));
    s = source();
    s.path = "openai/creds/a b";
    CHECK_FALSE(VaultClient::create(http, s));
    s = source();
    s.namespace_ = "a\r\nX-Evil: 1";
    CHECK_FALSE(VaultClient::create(http, s));
    s = source();
    s.jwt_auth_method_path = "auth/jwt-prod";
    auto c = VaultClient::create(http, s);
    REQUIRE(c);
    http.answer(400, fixture("error-oidc-role-type.json"));
    std::optional<VaultResult<LoginResult>> got;
    c->login("j", [&](VaultResult<LoginResult> r) { got = std::move(r); });
    CHECK(http.requests.back().url == "http://127.0.0.1:8200/v1/auth/jwt-prod/login");
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error().explanation.find("auth/jwt-prod/role/openai-apikeys") != std::string::npos);
}
