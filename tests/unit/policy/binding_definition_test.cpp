// SPDX-License-Identifier: Apache-2.0
// Reload diffing: which bindings keep running, restart, start and stop when the policy changes.
#include "policy/binding_definition.hpp"

#include "policy/loader.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace credgate;
using namespace credgate::policy;

namespace {

const char* kPolicy = R"(
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: src}
spec:
  vault: {address: "http://127.0.0.1:8200", jwtAuthMethodPath: jwt, role: r, path: openai/creds/my-role, audience: [vault]}
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: agent}
spec:
  workloadID: ai-agent
  selectors:
    - process:path: /usr/bin/true
      process:uid: 1000
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: other}
spec:
  workloadID: other
  selectors:
    - process:uid: 1001
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: a}
spec: {workloadID: ai-agent, credentialSource: src, propagation: {file: {}}}
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: b}
spec: {workloadID: other, credentialSource: src, propagation: {file: {}}}
)";

std::map<std::string, std::string> fingerprints(const std::string& yaml) {
    auto loaded = policy::load_policies_from_string(yaml, "test.yaml", std::string("example.org"));
    REQUIRE_MESSAGE(loaded.has_value(), "the test policy must load");
    auto defs = resolve_bindings(loaded->value, "example.org");
    REQUIRE(defs.has_value());
    std::map<std::string, std::string> out;
    for (const auto& d : *defs) out[d.binding.meta.name] = d.fingerprint;
    return out;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    auto pos = s.find(from);
    REQUIRE_MESSAGE(pos != std::string::npos, from);
    return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("resolves a binding to its SPIFFE ID and the workload's UUIDv5 directory") {
    auto loaded = policy::load_policies_from_string(kPolicy, "test.yaml", std::string("example.org"));
    REQUIRE(loaded.has_value());
    auto defs = resolve_bindings(loaded->value, "example.org");
    REQUIRE(defs.has_value());
    REQUIRE(defs->size() == 2);
    CHECK((*defs)[0].spiffe_id == "spiffe://example.org/ai-agent");
    CHECK((*defs)[0].workload_uuid.size() == 36);
    CHECK((*defs)[0].identity.meta.name == "agent");
    CHECK((*defs)[1].identity.meta.name == "other");
    CHECK((*defs)[0].workload_uuid != (*defs)[1].workload_uuid);
}

TEST_CASE("an identical policy keeps every binding running untouched") {
    auto plan = plan_reload(fingerprints(kPolicy), fingerprints(kPolicy));
    CHECK(plan.unchanged == std::vector<std::string>{"a", "b"});
    CHECK(plan.empty_change());
}

TEST_CASE("moving documents around and adding comments changes nothing") {
    std::string moved = std::string("# a comment\n\n") + kPolicy;
    CHECK(plan_reload(fingerprints(kPolicy), fingerprints(moved)).empty_change());
}

TEST_CASE("a changed source restarts every binding that uses it") {
    auto changed = replaced(kPolicy, "role: r,", "role: r2,");
    auto plan = plan_reload(fingerprints(kPolicy), fingerprints(changed));
    CHECK(plan.changed == std::vector<std::string>{"a", "b"});
    CHECK(plan.unchanged.empty());
}

TEST_CASE("a changed identity restarts only its binding") {
    auto changed = replaced(kPolicy, "process:uid: 1000", "process:uid: 1002");
    auto plan = plan_reload(fingerprints(kPolicy), fingerprints(changed));
    CHECK(plan.changed == std::vector<std::string>{"a"});
    CHECK(plan.unchanged == std::vector<std::string>{"b"});
}

TEST_CASE("a changed output file name or refresh tuning restarts the binding") {
    auto out = replaced(
        kPolicy, "metadata: {name: b}\nspec: {workloadID: other, credentialSource: src, propagation: {file: {}}}",
        "metadata: {name: b}\nspec: {workloadID: other, credentialSource: src, propagation: {file: {}}, output: {file: "
        "key.json}}");
    CHECK(plan_reload(fingerprints(kPolicy), fingerprints(out)).changed == std::vector<std::string>{"b"});
    auto tuned = replaced(
        kPolicy, "metadata: {name: b}\nspec: {workloadID: other, credentialSource: src, propagation: {file: {}}}",
        "metadata: {name: b}\nspec: {workloadID: other, credentialSource: src, propagation: {file: {}}, refresh: "
        "{revokeGrace: 5s}}");
    CHECK(plan_reload(fingerprints(kPolicy), fingerprints(tuned)).changed == std::vector<std::string>{"b"});
}

TEST_CASE("a removed binding stops and a new one starts") {
    auto renamed = replaced(kPolicy, "metadata: {name: b}", "metadata: {name: c}");
    auto plan = plan_reload(fingerprints(kPolicy), fingerprints(renamed));
    CHECK(plan.removed == std::vector<std::string>{"b"});
    CHECK(plan.added == std::vector<std::string>{"c"});
    CHECK(plan.unchanged == std::vector<std::string>{"a"});
    CHECK(plan.changed.empty());
}

TEST_CASE("a different trust domain changes the SPIFFE ID and so restarts the binding") {
    auto loaded = policy::load_policies_from_string(kPolicy, "test.yaml", std::nullopt);
    REQUIRE(loaded.has_value());
    auto one = resolve_bindings(loaded->value, "example.org");
    auto two = resolve_bindings(loaded->value, "example.com");
    REQUIRE(one.has_value());
    REQUIRE(two.has_value());
    CHECK((*one)[0].fingerprint != (*two)[0].fingerprint);
}

TEST_CASE("a settings change that needs a restart is detected, an identical file is not") {
    policy::AgentConfig a;
    a.trust_domain = "example.org";
    policy::AgentConfig b = a;
    CHECK(config_fingerprint(a) == config_fingerprint(b));
    b.issuer.listen = "127.0.0.1:9999";
    CHECK(config_fingerprint(a) != config_fingerprint(b));
    b = a;
    b.metrics.listen = "127.0.0.1:9464";
    CHECK(config_fingerprint(a) != config_fingerprint(b));
}
