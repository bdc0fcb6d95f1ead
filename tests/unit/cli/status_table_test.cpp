// SPDX-License-Identifier: Apache-2.0
// `credgatectl status` as an operator reads it: time left, the last error and how long ago it
// happened, and notes on revocations, with "now" taken from a clock the test moves by hand.
#include "cli/status_table.hpp"
#include "common/time_text.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

using namespace credgate;
using namespace credgate::cli;

namespace {

const TimePoint kStart{std::chrono::seconds{1'800'000'000}};

// A status document as credgated renders it (control_api.cpp), with one binding whose last login
// failed at `error_at`, optionally resolved at `resolved_at`, and one token waiting for revocation.
std::string document(TimePoint error_at, std::optional<TimePoint> resolved_at, TimePoint next_revocation,
                     int64_t expires_in_seconds) {
    const std::string resolved =
        resolved_at ? fmt::format(R"(,"resolvedAt":"{}")", rfc3339(*resolved_at)) : std::string();
    return fmt::format(R"({{
  "daemon": {{"version": "0.1.0", "pid": 4242, "trustDomain": "example.org", "issuer": "http://127.0.0.1:8200",
              "enforcement": {{"mode": "enforced", "problem": ""}},
              "stoppedBindingsRevocationsPending": 0}},
  "bindings": [{{
    "metadata": {{"name": "openai"}},
    "spec": {{"credentialSource": "vault-openai"}},
    "status": {{"state": "RETRYING", "spiffeID": "spiffe://example.org/ai-agent",
               "file": {{"files": [{{"path": "/run/credgate/credentials/u/crb-openai/vault.json"}}]}},
               "expiresInSeconds": {},
               "lastError": {{"class": "unavailable", "operation": "login", "httpStatus": 503,
                              "explanation": "Vault is sealed", "at": "{}"{}}},
               "counters": {{"revocationsPending": 1}},
               "nextRevocationAt": "{}"}}
  }}]
}})",
                       expires_in_seconds, rfc3339(error_at), resolved, rfc3339(next_revocation));
}

std::string row(const std::string& text) {
    auto at = text.find("\nopenai ");
    REQUIRE(at != std::string::npos);
    return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("the last error says how long ago it happened, measured on the clock the command is given") {
    ManualClock clock(kStart);
    const auto json = document(kStart - std::chrono::seconds{75}, std::nullopt, kStart + std::chrono::seconds{4}, 754);
    auto text = status_text(json, clock.now());
    REQUIRE(text);
    CHECK(row(*text).find("12m34s") != std::string::npos);  // expires in, from the daemon's count
    CHECK(row(*text).ends_with("Vault is sealed (HTTP 503 on login, 1m15s ago)"));
    CHECK(text->find("note: openai: 1 login token(s) not revoked yet; next attempt in 4s\n") != std::string::npos);

    clock.advance(std::chrono::seconds{60});
    text = status_text(json, clock.now());
    REQUIRE(text);
    CHECK(row(*text).ends_with("Vault is sealed (HTTP 503 on login, 2m15s ago)"));
    CHECK(text->find("next attempt 56s ago") != std::string::npos);
}

TEST_CASE("a resolved error shows only its class, when it happened and when it was resolved") {
    ManualClock clock(kStart);
    const auto json = document(kStart - std::chrono::hours{2}, kStart - std::chrono::seconds{12},
                               kStart + std::chrono::seconds{1}, 3 * 3600 + 7 * 60 + 9);
    auto text = status_text(json, clock.now());
    REQUIRE(text);
    CHECK(row(*text).find("3h07m") != std::string::npos);
    CHECK(row(*text).ends_with("- (last: unavailable, HTTP 503 on login, 2h00m ago; resolved 12s ago)"));
    CHECK(text->find("Vault is sealed") == std::string::npos);  // no present-tense text outlives the error
    CHECK(text->find("next attempt in 1s") != std::string::npos);
}

TEST_CASE("an expired secret reads 'expired', and a document that is not JSON is refused") {
    ManualClock clock(kStart);
    auto text = status_text(document(kStart, std::nullopt, kStart, 0), clock.now());
    REQUIRE(text);
    CHECK(row(*text).find("   expired   ") != std::string::npos);
    CHECK(row(*text).ends_with("Vault is sealed (HTTP 503 on login, just now)"));
    auto bad = status_text("<html>", clock.now());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "credgated sent a status document that is not valid JSON");
}
