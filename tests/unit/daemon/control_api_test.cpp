// SPDX-License-Identifier: Apache-2.0
// Control API: who may use the socket, the resource document `credgatectl get binding` prints
// (and that it tells the truth about files, errors and revocations), and the metrics exposition.
#include "daemon/control_api.hpp"
#include "daemon/metrics.hpp"
#include "protection/file_owner.hpp"
#include "refresh/engine.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <algorithm>

using namespace credgate;
using namespace credgate::daemon;

TEST_CASE("the control socket serves root and the daemon's own uid, and refuses everyone else") {
    CHECK(peer_allowed(http::PeerCredentials{1, 0, 0}, 0));
    CHECK(peer_allowed(http::PeerCredentials{1, 0, 0}, 1000));
    CHECK(peer_allowed(http::PeerCredentials{1, 1000, 1000}, 1000));
    CHECK_FALSE(peer_allowed(http::PeerCredentials{1, 1001, 1001}, 1000));
    CHECK_FALSE(peer_allowed(http::PeerCredentials{1, 1000, 1000}, 0));
    CHECK_FALSE(peer_allowed(std::nullopt, 0));
}

TEST_CASE("a binding renders as a CredentialBinding resource with its file path in status") {
    BindingSnapshot b;
    b.definition.binding.meta.name = "openai";
    b.definition.binding.workload_id = "ai-agent";
    b.definition.binding.credential_source = "src";
    b.definition.source.meta.name = "src";
    b.definition.source.vault.address = "http://127.0.0.1:8200";
    b.definition.spiffe_id = "spiffe://example.org/ai-agent";
    b.definition.binding.propagation = policy::DeliveryBackend::file;
    b.state = "OK";
    b.propagation = "file";
    b.path = "/run/credgate/credentials/u/crb-openai/vault.json";
    b.published = true;
    refresh::Status st;
    const TimePoint now{std::chrono::seconds{1'800'000'000}};
    st.secret_expiry = now + std::chrono::seconds{90};
    st.lease_id = "openai/creds/my-role/abc";
    st.last_error = refresh::LastError{vault::ErrorClass::auth_config,
                                       vault::Operation::login,
                                       400,
                                       "the role's bound_subject does not match",
                                       "error validating claims",
                                       false,
                                       now,
                                       std::nullopt};
    b.engine = st;
    rapidjson::Document doc;
    doc.Parse(binding_json(b, now).c_str());
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(std::string(doc["apiVersion"].GetString()) == "credgate.io/v1alpha1");
    CHECK(std::string(doc["kind"].GetString()) == "CredentialBinding");
    CHECK(std::string(doc["metadata"]["name"].GetString()) == "openai");
    CHECK(doc["spec"]["propagation"].HasMember("file"));
    const auto& status = doc["status"];
    CHECK(std::string(status["state"].GetString()) == "OK");
    CHECK(std::string(status["file"]["files"][0]["path"].GetString()) == b.path);
    CHECK(std::string(status["file"]["files"][0]["type"].GetString()) == "CREDENTIAL");
    CHECK(status["expiresInSeconds"].GetInt64() == 90);
    CHECK(std::string(status["lease"]["id"].GetString()) == st.lease_id);
    CHECK(std::string(status["lastError"]["explanation"].GetString()) == "the role's bound_subject does not match");
}

TEST_CASE("a binding with propagation auto delivered by credgate.ko shows its sysfs path as in the seed scenario") {
    BindingSnapshot b;
    b.definition.binding.meta.name = "vault-openai-apikeys-binding";
    b.definition.binding.propagation = policy::DeliveryBackend::auto_select;
    b.state = "OK";
    b.propagation = "sysfs";
    b.path = "/sys/module/credgate/credentials/2e08019a-a435-55e3-9ba7-f01c09b9fc2b/"
             "crb-vault-openai-apikeys-binding/vault.json";
    b.published = true;
    b.engine = refresh::Status{};
    const TimePoint now{std::chrono::seconds{1'800'000'000}};
    rapidjson::Document doc;
    doc.Parse(binding_json(b, now).c_str());
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(doc["spec"]["propagation"].HasMember("auto"));  // as written
    const auto& status = doc["status"];
    CHECK_FALSE(status.HasMember("file"));
    CHECK(std::string(status["sysfs"]["files"][0]["path"].GetString()) == b.path);
    CHECK(std::string(status["sysfs"]["files"][0]["type"].GetString()) == "CREDENTIAL");
    CHECK(std::string(status["sysfs"]["note"].GetString()) == protection::kOnlyKernelGate);  // no uid pinned
}

TEST_CASE("a binding's warnings about this host are listed in its status, and absent when there are none") {
    BindingSnapshot b;
    b.definition.binding.meta.name = "openai";
    b.state = "OK";
    b.propagation = "file";
    const TimePoint now{std::chrono::seconds{1'800'000'000}};
    rapidjson::Document quiet;
    quiet.Parse(binding_json(b, now).c_str());
    REQUIRE_FALSE(quiet.HasParseError());
    CHECK_FALSE(quiet["status"].HasMember("warnings"));

    b.warnings = {"process:path '/opt/a' can be replaced by a uid other than root: ..."};
    rapidjson::Document doc;
    doc.Parse(binding_json(b, now).c_str());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc["status"]["warnings"].IsArray());
    REQUIRE(doc["status"]["warnings"].Size() == 1);
    CHECK(std::string(doc["status"]["warnings"][0].GetString()) == b.warnings[0]);
}

namespace {

constexpr const char* kVaultToken = "hvs.CAESIJlU0m3v2Bq4tCredgateTestToken";
constexpr const char* kJwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzcGlmZmUifQ.c2lnbmF0dXJl";
constexpr const char* kSecretValue = "sk-live-credgate-test-secret";

// Vault as the refresh engine sees it, answering at once: a login yields kVaultToken (then fails,
// once `refuse_logins` is set), a read yields kSecretValue under a two-minute lease.
class VaultWithRealToken final : public refresh::BindingOps {
public:
    bool refuse_logins = false;
    std::vector<std::string> tokens_used;  // what the engine sent Vault: proves it holds the token

    Result<std::string> mint_jwt() override { return std::string(kJwt); }
    void login(const std::string&, refresh::Callback<vault::LoginResult> done) override {
        if (refuse_logins) {
            vault::VaultError e;
            e.error_class = vault::ErrorClass::auth_config;
            e.operation = vault::Operation::login;
            e.http_status = 400;
            e.vault_message = "error validating token: invalid audience (aud) claim";
            e.explanation = "the JWT's audience is not one the role accepts";
            done(std::unexpected(e));
            return;
        }
        vault::LoginResult r;
        r.token = vault::Token(kVaultToken);
        r.accessor = "accessor-1";
        r.lease_duration = std::chrono::hours{1};
        r.renewable = true;
        done(r);
    }
    void read(const vault::Token& token, bool, refresh::Callback<vault::SecretResult> done) override {
        tokens_used.push_back(token.reveal());
        vault::SecretResult s;
        s.data_json = fmt::format(R"({{"api_key":"{}"}})", kSecretValue);
        s.string_fields = {{"api_key", kSecretValue}};
        s.lease_id = "openai/creds/my-role/lease-1";
        s.lease_duration = std::chrono::seconds{120};
        done(s);
    }
    void renew_self(const vault::Token& token, refresh::Callback<vault::LoginResult> done) override {
        tokens_used.push_back(token.reveal());
        vault::LoginResult r;
        r.token = token;
        r.lease_duration = std::chrono::hours{1};
        r.renewable = true;
        done(r);
    }
    void renew_lease(const vault::Token& token, const std::string& lease_id,
                     refresh::Callback<vault::LeaseRenewal> done) override {
        tokens_used.push_back(token.reveal());
        vault::LeaseRenewal r;
        r.lease_id = lease_id;
        r.lease_duration = std::chrono::seconds{120};
        done(r);
    }
    void revoke_self(const vault::Token& token, refresh::Callback<vault::Empty> done) override {
        tokens_used.push_back(token.reveal());
        done(vault::Empty{});
    }
    Result<void> publish(const vault::SecretResult&) override { return {}; }
    void unpublish() override {}
};

}  // namespace

TEST_CASE("no document or metric of a binding whose engine holds a Vault token shows the token, JWT or secret") {
    ManualClock clock;
    VaultWithRealToken vault;
    refresh::Engine engine("openai", clock, vault, refresh::EngineOptions{});
    engine.start();
    REQUIRE(engine.status().state == refresh::State::ok);
    // The next refresh fails after the login: the engine keeps the token, the status keeps an error.
    vault.refuse_logins = true;
    clock.advance(*engine.status().next_attempt - clock.now());
    REQUIRE(engine.status().last_error.has_value());
    REQUIRE(std::find(vault.tokens_used.begin(), vault.tokens_used.end(), kVaultToken) != vault.tokens_used.end());

    DaemonSnapshot d;
    d.protection = "enforced";
    BindingSnapshot b;
    b.definition.binding.meta.name = "openai";
    b.definition.binding.workload_id = "ai-agent";
    b.definition.spiffe_id = "spiffe://example.org/ai-agent";
    b.propagation = "file";
    b.path = "/run/credgate/credentials/u/crb-openai/vault.json";
    b.published = true;
    const auto status = engine.status();
    b.state = refresh::to_string(status.state);
    b.message = status.message;
    b.engine = status;
    d.bindings.push_back(b);

    const std::string documents[] = {binding_json(b, clock.now()), status_json(d, clock.now()),
                                     render_metrics(d, clock.now())};
    for (const auto& text : documents) {
        // The documents are the real ones: they carry the engine's lease and error.
        CHECK(text.find("openai") != std::string::npos);
        CHECK(text.find(kVaultToken) == std::string::npos);
        CHECK(text.find("CAESIJlU0m3v2Bq4") == std::string::npos);
        CHECK(text.find(kJwt) == std::string::npos);
        CHECK(text.find(kSecretValue) == std::string::npos);
    }
    CHECK(documents[0].find("openai/creds/my-role/lease-1") != std::string::npos);
    CHECK(documents[0].find("invalid audience") != std::string::npos);
}

TEST_CASE("metrics count bindings by state and expose seconds to expiry without secrets") {
    DaemonSnapshot d;
    d.protection = "insecure";
    BindingSnapshot b;
    b.definition.binding.meta.name = "bind\"ing";
    b.state = "OK";
    refresh::Status st;
    const TimePoint now{std::chrono::seconds{1'800'000'000}};
    st.secret_expiry = now + std::chrono::seconds{42};
    st.publishes = 3;
    st.lease_id = "openai/creds/my-role/secret-looking-lease";
    b.engine = st;
    d.bindings.push_back(b);
    BindingSnapshot blocked;
    blocked.definition.binding.meta.name = "other";
    blocked.state = "BLOCKED";
    d.bindings.push_back(blocked);
    const std::string m = render_metrics(d, now);
    CHECK(m.find("credgate_enforcement_mode{mode=\"insecure\"} 1\n") != std::string::npos);
    CHECK(m.find("credgate_enforcement_mode{mode=\"enforced\"} 0\n") != std::string::npos);
    CHECK(m.find("credgate_bindings{state=\"OK\"} 1\n") != std::string::npos);
    CHECK(m.find("credgate_bindings{state=\"BLOCKED\"} 1\n") != std::string::npos);
    CHECK(m.find("credgate_bindings{state=\"FAILED\"} 0\n") != std::string::npos);
    CHECK(m.find("credgate_secret_expiry_seconds{binding=\"bind\\\"ing\"} 42\n") != std::string::npos);
    CHECK(m.find("credgate_publishes_total{binding=\"bind\\\"ing\"} 3\n") != std::string::npos);
    CHECK(m.find("secret-looking-lease") == std::string::npos);
}

namespace {

const TimePoint kNow{std::chrono::seconds{1'800'000'000}};

BindingSnapshot running_binding() {
    BindingSnapshot b;
    b.definition.binding.meta.name = "openai";
    b.definition.spiffe_id = "spiffe://example.org/ai-agent";
    b.state = "OK";
    b.propagation = "file";
    b.path = "/run/credgate/credentials/u/crb-openai/vault.json";
    b.published = true;
    b.file_uid = 1000;
    b.file_mode = 0400;
    b.pinned_uid = 1000;
    b.engine = refresh::Status{};
    return b;
}

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

}  // namespace

TEST_CASE("a published file is listed with its owner and mode, and an expired binding lists no file") {
    auto b = running_binding();
    auto doc = parse(binding_json(b, kNow));
    const auto& files = doc["status"]["file"]["files"];
    REQUIRE(files.Size() == 1);
    CHECK(files[0]["uid"].GetUint() == 1000);
    CHECK(std::string(files[0]["mode"].GetString()) == "0400");
    CHECK(doc["status"]["file"]["ownerUID"].GetUint() == 1000);
    CHECK_FALSE(doc["status"]["file"].HasMember("note"));

    b.state = "EXPIRED";
    b.published = false;
    doc = parse(binding_json(b, kNow));
    CHECK(doc["status"]["file"]["files"].Size() == 0);
}

TEST_CASE("a binding whose identity pins no single uid says the kernel programs are the only gate") {
    auto b = running_binding();
    b.pinned_uid.reset();
    b.file_uid = 0;
    b.file_mode = 0644;
    auto doc = parse(binding_json(b, kNow));
    CHECK(std::string(doc["status"]["file"]["note"].GetString()) ==
          "the kernel programs are the only gate (the identity pins no single uid)");
    CHECK(std::string(doc["status"]["file"]["files"][0]["mode"].GetString()) == "0644");
    CHECK_FALSE(doc["status"]["file"].HasMember("ownerUID"));
}

TEST_CASE("the last error carries the time it happened, and the time it was resolved once it was") {
    auto b = running_binding();
    refresh::LastError e;
    e.error_class = vault::ErrorClass::unavailable;
    e.operation = vault::Operation::login;
    e.http_status = 503;
    e.explanation = "Vault is sealed; an operator has to unseal it";
    e.at = kNow - std::chrono::seconds{75};
    b.engine->last_error = e;
    auto doc = parse(binding_json(b, kNow));
    CHECK(std::string(doc["status"]["lastError"]["at"].GetString()) == "2027-01-15T07:58:45Z");
    CHECK_FALSE(doc["status"]["lastError"].HasMember("resolvedAt"));

    b.engine->last_error->resolved_at = kNow - std::chrono::seconds{12};
    doc = parse(binding_json(b, kNow));
    CHECK(std::string(doc["status"]["lastError"]["resolvedAt"].GetString()) == "2027-01-15T07:59:48Z");
}

TEST_CASE("status counts tokens pending revocation and says when the next attempt is") {
    auto b = running_binding();
    b.engine->revocations_pending = 2;
    b.engine->revocation_failures = 5;
    b.engine->next_revocation = kNow + std::chrono::seconds{4};
    auto doc = parse(binding_json(b, kNow));
    CHECK(doc["status"]["counters"]["revocationsPending"].GetUint64() == 2);
    CHECK(doc["status"]["counters"]["revocationFailures"].GetUint64() == 5);
    CHECK(std::string(doc["status"]["nextRevocationAt"].GetString()) == "2027-01-15T08:00:04Z");
}

TEST_CASE("the daemon's status says which file system holds the credentials and whether it can swap") {
    DaemonSnapshot d;
    d.delivery = {"/run/credgate/credentials",
                  "ramfs",
                  false,
                  "this kernel's tmpfs has no noswap (Linux < 6.4), and ramfs is never swapped",
                  120,
                  1024,
                  "/sys/module/credgate/credentials",
                  true};
    auto doc = parse(status_json(d, kNow));
    const auto& delivery = doc["daemon"]["delivery"];
    CHECK(std::string(delivery["filesystem"].GetString()) == "ramfs");
    CHECK_FALSE(delivery["maySwap"].GetBool());
    CHECK(std::string(delivery["reason"].GetString()).find("noswap") != std::string::npos);
    CHECK(std::string(delivery["sysfs"]["root"].GetString()) == "/sys/module/credgate/credentials");
    CHECK(delivery["sysfs"]["moduleLoaded"].GetBool());
    CHECK(delivery["publishedBytes"].GetUint64() == 120);
    CHECK(delivery["maxBytes"].GetUint64() == 1024);
    CHECK(doc["daemon"]["stoppedBindingsRevocationsPending"].GetUint64() == 0);
}

TEST_CASE("metrics expose tokens pending revocation, and a resolved error is no current error") {
    DaemonSnapshot d;
    auto b = running_binding();
    b.engine->revocations_pending = 1;
    refresh::LastError e;
    e.error_class = vault::ErrorClass::unavailable;
    e.at = kNow - std::chrono::seconds{60};
    b.engine->last_error = e;
    d.bindings.push_back(b);
    std::string m;
    d.stopped_revocations_pending = 3;
    m = render_metrics(d, kNow);
    CHECK(m.find("credgate_tokens_pending_revocation{binding=\"openai\"} 1\n") != std::string::npos);
    CHECK(m.find("credgate_stopped_bindings_tokens_pending_revocation 3\n") != std::string::npos);
    CHECK(m.find("credgate_last_error{binding=\"openai\",class=\"unavailable\"") != std::string::npos);
    d.bindings[0].engine->last_error->resolved_at = kNow;
    m = render_metrics(d, kNow);
    CHECK(m.find("credgate_last_error{binding=") == std::string::npos);
}

TEST_CASE("metrics carry the build, the issuer key's age and the audit verdicts by binding") {
    DaemonSnapshot d;
    d.version = "0.1.0";
    d.revision = "v0.1.0-12-gabcdef0";
    d.issuer_key_created = kNow - std::chrono::seconds{3600 + 5};
    d.audit_events[{"openai", "allow"}] = 7;
    d.audit_events[{"openai", "deny"}] = 2;
    d.audit_events[{"", "deny"}] = 1;  // a tamper decision on an object of no binding
    const std::string m = render_metrics(d, kNow);
    CHECK(m.find("# TYPE credgate_build_info gauge\n"
                 "credgate_build_info{version=\"0.1.0\",revision=\"v0.1.0-12-gabcdef0\"} 1\n") != std::string::npos);
    CHECK(m.find("# TYPE credgate_issuer_key_age_seconds gauge\ncredgate_issuer_key_age_seconds 3605\n") !=
          std::string::npos);
    CHECK(m.find("# TYPE credgate_audit_events_total counter\n") != std::string::npos);
    CHECK(m.find("credgate_audit_events_total{binding=\"openai\",verdict=\"allow\"} 7\n") != std::string::npos);
    CHECK(m.find("credgate_audit_events_total{binding=\"openai\",verdict=\"deny\"} 2\n") != std::string::npos);
    CHECK(m.find("credgate_audit_events_total{binding=\"\",verdict=\"deny\"} 1\n") != std::string::npos);
}

TEST_CASE("without audit events the audit family is declared and has no samples") {
    DaemonSnapshot d;
    d.issuer_key_created = kNow;
    const std::string m = render_metrics(d, kNow);
    CHECK(m.find("# TYPE credgate_audit_events_total counter\n") != std::string::npos);
    CHECK(m.find("credgate_audit_events_total{") == std::string::npos);
    CHECK(m.find("credgate_issuer_key_age_seconds 0\n") != std::string::npos);
}
