// SPDX-License-Identifier: Apache-2.0
// Success envelopes parse into typed results; wrong types, broken JSON and oversized bodies are
// protocol errors naming the field.
#include "fixture.hpp"
#include "vault/response.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <random>

using namespace credgate;
using namespace credgate::vault;

TEST_CASE("parses a captured Vault login with the token kept out of formatting") {
    auto r = parse_login_response(fixture("login-success-kubernetes.json"));
    REQUIRE(r);
    CHECK(r->token.reveal() == "hvs.token");
    CHECK(fmt::format("{}", r->token) == "hvs.<redacted>");
    CHECK(r->accessor == "qWHb27FOn766whSHHpNizxfD");
    CHECK(r->lease_duration == std::chrono::seconds{3600});
    CHECK(r->renewable);
    CHECK(r->num_uses == 0);
    CHECK(r->policies == std::vector<std::string>{"admin", "default"});
}

TEST_CASE("parses the JWT login sample as printed, whitespace and all") {
    auto r = parse_login_response(fixture("login-success-jwt.json"));
    REQUIRE(r);
    CHECK(r->token.reveal() == "hvs.CAESI...");
    CHECK(r->policies == std::vector<std::string>{"default", "openai-agent"});
}

TEST_CASE("a token of an unknown shape formats as <redacted> without any of its characters") {
    Token t("abcdefgh-secret");
    CHECK(fmt::format("{}", t) == "<redacted>");
    CHECK(fmt::format("{}", Token{}) == "<none>");
}

TEST_CASE("parses an OpenAI creds read into data, string fields and a non-renewable lease") {
    auto r = parse_secret_response(fixture("secret-openai-creds.json"));
    REQUIRE(r);
    CHECK(r->lease_id == "openai/creds/agent/k3J9x0abQm7PzR2sT4uV6wXy");
    CHECK(r->lease_duration == std::chrono::seconds{3600});
    CHECK_FALSE(r->renewable);
    CHECK(r->leased());
    CHECK_FALSE(r->is_kv2);
    CHECK(r->data_json ==
          R"({"api_key":"sk-svcacct-test0123456789","api_key_id":"key_abc123","service_account":"vault-agent-k3j9x0ab","service_account_id":"user-abc123"})");
    CHECK(r->string_fields.at("api_key") == "sk-svcacct-test0123456789");
    CHECK(r->string_fields.size() == 4);
}

TEST_CASE("parses a renewable OpenBao dynamic secret") {
    auto r = parse_secret_response(fixture("secret-database-openbao.json"));
    REQUIRE(r);
    CHECK(r->renewable);
    CHECK(r->lease_id == "database/creds/app-readwrite/PTf7VNozTwLK2l8KYsstMdX6");
    CHECK(r->string_fields.at("username") == "v-token-app-read-J6rJCj3Vvkkp17lejPor-1788011369");
}

TEST_CASE("unwraps KV v2 data.data and keeps the version") {
    auto r = parse_secret_response(fixture("secret-kv2.json"));
    REQUIRE(r);
    CHECK(r->is_kv2);
    CHECK(r->kv2_version == 2);
    CHECK(r->data_json == R"({"foo":"bar"})");
    CHECK_FALSE(r->leased());
}

TEST_CASE("a KV v1 secret with a 'data' key is not mistaken for KV v2") {
    auto r = parse_secret_response(R"({"lease_id":"","lease_duration":2764800,"data":{"data":{"a":"b"},"other":"x"}})");
    REQUIRE(r);
    CHECK_FALSE(r->is_kv2);
    CHECK(r->data_json == R"({"data":{"a":"b"},"other":"x"})");
    CHECK(r->string_fields.size() == 1);
}

TEST_CASE("parses a lease renewal") {
    auto r = parse_lease_renewal(fixture("lease-renew-success.json"));
    REQUIRE(r);
    CHECK(r->lease_duration == std::chrono::seconds{2764790});
    CHECK(r->renewable);
}

TEST_CASE("a truncated body is a protocol error") {
    auto r = parse_secret_response(fixture("malformed-truncated.json"));
    REQUIRE_FALSE(r);
    CHECK(r.error().error_class == ErrorClass::protocol);
    CHECK(r.error().explanation.starts_with("response is not JSON"));
}

TEST_CASE("a field of the wrong type is a protocol error naming the field") {
    auto r = parse_secret_response(fixture("malformed-wrong-types.json"));
    REQUIRE_FALSE(r);
    CHECK(r.error().explanation == "field 'renewable' is not a boolean");
    auto l = parse_login_response(fixture("malformed-login-token-number.json"));
    REQUIRE_FALSE(l);
    CHECK(l.error().explanation == "field 'auth.client_token' is not a string");
}

TEST_CASE("a login without auth, or a read without data, is refused") {
    auto l = parse_login_response(fixture("secret-openai-creds.json"));
    REQUIRE_FALSE(l);
    CHECK(l.error().explanation == "field 'auth' is missing");
    auto s = parse_secret_response(fixture("login-success-kubernetes.json"));
    REQUIRE_FALSE(s);
    CHECK(s.error().explanation == "field 'data' is missing");
}

TEST_CASE("negative or absurd durations are refused") {
    auto r = parse_secret_response(R"({"lease_id":"x","lease_duration":-5,"data":{}})");
    REQUIRE_FALSE(r);
    CHECK(r.error().explanation == "field 'lease_duration' is out of range (-5)");
    auto f = parse_secret_response(R"({"lease_id":"x","lease_duration":1.5,"data":{}})");
    REQUIRE_FALSE(f);
    CHECK(f.error().explanation == "field 'lease_duration' is not an integer");
}

TEST_CASE("an oversized body is refused before parsing") {
    std::string body = R"({"lease_id":"","data":{"k":")" + std::string(kMaxResponseBody, 'a') + R"("}})";
    auto r = parse_secret_response(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().explanation.find("exceeds the") != std::string::npos);
}

TEST_CASE("deep nesting does not exhaust the stack") {
    std::string body = R"({"data":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    auto r = parse_secret_response(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().error_class == ErrorClass::protocol);
}

TEST_CASE("mutated recorded bodies either parse or fail as protocol errors, never worse") {
    std::mt19937 gen(7);
    const char* names[] = {"secret-openai-creds.json", "secret-kv2.json", "login-success-kubernetes.json",
                           "lease-renew-success.json"};
    int failures = 0;
    for (const char* name : names) {
        const std::string original = fixture(name);
        for (int i = 0; i < 500; ++i) {
            std::string body = original;
            const int edits = 1 + static_cast<int>(gen() % 4);
            for (int e = 0; e < edits; ++e) {
                const size_t at = gen() % body.size();
                switch (gen() % 3) {
                case 0: body[at] = static_cast<char>(gen() % 256); break;
                case 1: body.erase(at, 1 + gen() % 8); break;
                default: body.insert(at, 1, "{}[]\",:0-e"[gen() % 10]); break;
                }
                if (body.empty()) body = "x";
            }
            auto error_of = [](const auto& r) { return r ? VaultError{} : r.error(); };
            for (const VaultError& error : {error_of(parse_secret_response(body)), error_of(parse_login_response(body)),
                                            error_of(parse_lease_renewal(body))}) {
                CHECK(error.error_class == ErrorClass::protocol);
                if (!error.explanation.empty()) ++failures;
            }
        }
    }
    // Most mutations break something; the check above is that each break is reported as protocol.
    CHECK(failures > 1000);
}
