// SPDX-License-Identifier: Apache-2.0
// Vault error responses map to the right class, keep Vault's words and explain mis-configurations.
#include "fixture.hpp"
#include "http/client.hpp"
#include "vault/error.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::vault;

namespace {

http::Response response(int status, const std::string& fixture_name, http::Headers headers = {}) {
    http::Response r;
    r.status = status;
    r.body = fixture(fixture_name);
    r.headers = std::move(headers);
    return r;
}

ErrorContext login_ctx() { return ErrorContext{Operation::login, "auth/jwt/login", "jwt", "openai-apikeys", false}; }
ErrorContext read_ctx(bool fresh) {
    return ErrorContext{Operation::read, "openai/creds/my-role", "jwt", "openai-apikeys", fresh};
}

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("splits go-multierror text into its items") {
    CHECK(split_multierror("1 error occurred:\n\t* permission denied\n\n") == std::vector<std::string>{"permission denied"});
    CHECK(split_multierror("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n") ==
          std::vector<std::string>{"permission denied", "invalid token"});
    CHECK(split_multierror("Vault is sealed") == std::vector<std::string>{"Vault is sealed"});
    CHECK(split_multierror("").empty());
}

TEST_CASE("an ACL denial on a fresh token's read names the path and the policy fix") {
    auto e = classify_response(response(403, "error-acl-permission-denied.json"), read_ctx(true));
    CHECK(e.error_class == ErrorClass::permission);
    CHECK(e.http_status == 403);
    CHECK(e.vault_message == "permission denied");
    CHECK_FALSE(e.retryable);
    CHECK(has(e.explanation, "openai/creds/my-role"));
    CHECK(has(e.explanation, "token_policies"));
}

TEST_CASE("a plain permission denied on a reused token is retryable with a new login") {
    auto e = classify_response(response(403, "error-permission-denied.json"), read_ctx(false));
    CHECK(e.error_class == ErrorClass::permission);
    CHECK(e.retryable);
    CHECK(e.vault_message == "permission denied");
}

TEST_CASE("Vault 1.17's invalid token form says a new login is needed") {
    auto e = classify_response(response(403, "error-invalid-token-vault117.json"), read_ctx(true));
    CHECK(e.vault_message == "permission denied; invalid token");
    CHECK(e.retryable);
    CHECK(has(e.explanation, "new login"));
}

TEST_CASE("403 on login points at a missing auth mount or token_bound_cidrs") {
    auto e = classify_response(response(403, "error-permission-denied.json"), login_ctx());
    CHECK(e.error_class == ErrorClass::permission);
    CHECK_FALSE(e.retryable);
    CHECK(has(e.explanation, "auth/jwt"));
    CHECK(has(e.explanation, "token_bound_cidrs"));
}

TEST_CASE("a sealed Vault is unavailable and retryable") {
    auto e = classify_response(response(503, "error-sealed.json"), read_ctx(false));
    CHECK(e.error_class == ErrorClass::unavailable);
    CHECK(e.retryable);
    CHECK(e.vault_message == "Vault is sealed");
    CHECK(has(e.explanation, "unseal"));
}

TEST_CASE("a 429 quota is rate limited and carries Retry-After") {
    auto e = classify_response(response(429, "error-rate-limit-quota.json", {{"retry-after", "17"}}), read_ctx(false));
    CHECK(e.error_class == ErrorClass::rate_limited);
    CHECK(e.retryable);
    REQUIRE(e.retry_after);
    CHECK(*e.retry_after == std::chrono::seconds{17});
    CHECK(e.vault_message == "request path \"openai/creds/agent\": rate limit quota exceeded");
}

TEST_CASE("Retry-After accepts delta-seconds only and is capped") {
    CHECK(parse_retry_after("5") == Duration{std::chrono::seconds{5}});
    CHECK(parse_retry_after(" 120 ") == Duration{std::chrono::seconds{120}});
    CHECK(parse_retry_after("999999") == Duration{std::chrono::hours{1}});
    CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
    CHECK_FALSE(parse_retry_after("-3"));
    CHECK_FALSE(parse_retry_after(""));
}

TEST_CASE("a role without role_type=jwt is explained in plain words") {
    auto e = classify_response(response(400, "error-oidc-role-type.json"), login_ctx());
    CHECK(e.error_class == ErrorClass::auth_config);
    CHECK_FALSE(e.retryable);
    CHECK(e.vault_message == "role with oidc role_type is not allowed");
    CHECK(has(e.explanation, "the Vault role was created without role_type=jwt"));
    CHECK(has(e.explanation, "auth/jwt/role/openai-apikeys"));
}

TEST_CASE("token_num_uses=1 is explained when the read's secret was revoked") {
    auto e = classify_response(response(400, "error-one-use-left.json"), read_ctx(true));
    CHECK(e.error_class == ErrorClass::auth_config);
    CHECK_FALSE(e.retryable);
    CHECK(has(e.explanation, "token_num_uses=1 on the role: the login token is used up by the read; set "
                             "token_num_uses to 0 or at least 2"));
    CHECK(has(e.vault_message, "Secret cannot be returned; token had one use left"));
}

TEST_CASE("login mis-configurations each get their own explanation") {
    struct Case {
        const char* fixture;
        const char* needle;
    };
    const Case cases[] = {
        {"error-role-not-found.json", "there is no role 'openai-apikeys'"},
        {"error-audience-mismatch.json", "bound_audiences"},
        {"error-audience-unbound.json", "has no bound_audiences"},
        {"error-subject-mismatch.json", "bound_subject"},
        {"error-issuer-mismatch.json", "bound_issuer"},
        {"error-signature-jwks.json", "oidc_discovery_url"},
        {"error-token-expired.json", "time synchronisation"},
        {"error-no-configuration.json", "has no configuration; write auth/jwt/config"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.fixture);
        auto e = classify_response(response(400, c.fixture), login_ctx());
        CHECK(e.error_class == ErrorClass::auth_config);
        CHECK_FALSE(e.retryable);
        CHECK(has(e.explanation, c.needle));
        CHECK_FALSE(e.vault_message.empty());
    }
}

TEST_CASE("a 404 with an empty errors list is not found and names the path") {
    auto e = classify_response(response(404, "error-empty.json"), read_ctx(true));
    CHECK(e.error_class == ErrorClass::not_found);
    CHECK(e.vault_message.empty());
    CHECK_FALSE(e.retryable);
    CHECK(has(e.explanation, "openai/creds/my-role"));
}

TEST_CASE("a non-renewable lease is a bad request, not a retry") {
    ErrorContext c{Operation::renew_lease, "sys/leases/renew", "jwt", "r", false};
    auto e = classify_response(response(400, "error-lease-not-renewable.json"), c);
    CHECK(e.error_class == ErrorClass::bad_request);
    CHECK_FALSE(e.retryable);
    CHECK(has(e.explanation, "not renewable"));
}

TEST_CASE("an upstream plugin failure is a retryable 500 with the inner message") {
    auto e = classify_response(response(500, "error-openai-upstream.json"), read_ctx(true));
    CHECK(e.error_class == ErrorClass::unavailable);
    CHECK(e.retryable);
    CHECK(e.vault_message.starts_with("error validating project: OpenAI project validation failed"));
}

TEST_CASE("a standby without a leader is unavailable") {
    auto e = classify_response(response(503, "error-no-active-instance.json"), read_ctx(false));
    CHECK(e.error_class == ErrorClass::unavailable);
    CHECK(e.retryable);
    CHECK(has(e.explanation, "standby"));
}

TEST_CASE("an unparsable error body still classifies by status") {
    http::Response r;
    r.status = 502;
    r.body = "<html>Bad Gateway</html>";
    auto e = classify_response(r, read_ctx(false));
    CHECK(e.error_class == ErrorClass::unavailable);
    CHECK(e.retryable);
    CHECK(e.vault_message.empty());
}

TEST_CASE("describe names the operation, the class, the status and Vault's words") {
    auto e = classify_response(response(400, "error-oidc-role-type.json"), login_ctx());
    const auto d = e.describe();
    CHECK(has(d, "login: auth configuration (HTTP 400): the Vault role was created without role_type=jwt"));
    CHECK(has(d, "[vault: \"role with oidc role_type is not allowed\"]"));
    CHECK(e.to_error().kind == ErrorKind::config);
}

// Whether a delivered secret is still there is the refresh engine's to say: an explanation shown
// while the secret has already expired and been removed must not claim it stays.
TEST_CASE("no error explanation speaks of the delivered secret") {
    const char* fixtures[] = {
        "error-acl-permission-denied.json", "error-audience-mismatch.json", "error-audience-unbound.json",
        "error-empty.json", "error-invalid-token-vault117.json", "error-issuer-mismatch.json",
        "error-lease-not-renewable.json", "error-no-active-instance.json", "error-no-configuration.json",
        "error-oidc-role-type.json", "error-one-use-left.json", "error-openai-upstream.json",
        "error-permission-denied.json", "error-rate-limit-quota.json", "error-role-not-found.json",
        "error-sealed.json", "error-signature-jwks.json", "error-subject-mismatch.json", "error-token-expired.json"};
    for (const char* f : fixtures) {
        for (int status : {400, 403, 404, 429, 500, 503}) {
            for (const auto& ctx : {login_ctx(), read_ctx(true), read_ctx(false)}) {
                CAPTURE(f);
                CAPTURE(status);
                const auto e = classify_response(response(status, f), ctx);
                CHECK_FALSE(has(e.explanation, "stays"));
                CHECK_FALSE(has(e.explanation, "delivered"));
                CHECK_FALSE(has(e.explanation, "until it expires"));
            }
        }
    }
    const auto sealed = classify_response(response(503, "error-sealed.json"), read_ctx(false));
    CHECK(sealed.explanation == "Vault is sealed; an operator has to unseal it");
}
