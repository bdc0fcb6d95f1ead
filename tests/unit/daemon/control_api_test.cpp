// SPDX-License-Identifier: Apache-2.0
// Control API: who may use the socket, the resource document `credgatectl get binding` prints,
// and the metrics exposition.
#include "daemon/control_api.hpp"
#include "daemon/metrics.hpp"

#include <doctest/doctest.h>

#include <rapidjson/document.h>

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
                                       now};
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
