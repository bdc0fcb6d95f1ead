// SPDX-License-Identifier: Apache-2.0
// Reload diffing: which bindings keep running, restart, start and stop when the policy changes.
#include "policy/binding_definition.hpp"

#include "policy/loader.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

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

// kPolicy written again by someone else: documents in another order, block instead of flow style,
// keys of every mapping reordered (the terms of a selector alternative too), values quoted, a
// one-element list for a scalar, comments and blank lines, and another file name. Same substance.
const char* kSamePolicyRewritten = R"(# bindings first this time
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata:
  name: "b"
spec:
  propagation:
    file: {}
  credentialSource: src
  workloadID: "other"
---
kind: CredentialBinding
apiVersion: "credgate.io/v1alpha1"
spec:
  credentialSource: "src"
  propagation: {file: {}}
  workloadID: ai-agent
metadata: {name: a}
---
kind: WorkloadIdentity
apiVersion: credgate.io/v1alpha1
metadata: {name: other}
spec:
  selectors:
    - process:uid: "1001"
  workloadID: other
---
apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  selectors:
    - process:uid: [1000]
      process:path: "/usr/bin/true"
  workloadID: ai-agent

---
apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata: {name: src}
spec:
  vault:
    role: "r"
    audience:
      - vault
    path: "openai/creds/my-role"
    jwtAuthMethodPath: jwt
    address: http://127.0.0.1:8200
)";

TEST_CASE("an identical policy keeps every binding running untouched") {
    auto running = fingerprints(kPolicy);
    auto loaded = policy::load_policies_from_string(kSamePolicyRewritten, "rewritten.yaml", std::string("example.org"));
    REQUIRE_MESSAGE(loaded.has_value(), "the rewritten policy must load");
    auto defs = resolve_bindings(loaded->value, "example.org");
    REQUIRE(defs.has_value());
    std::map<std::string, std::string> reloaded;
    for (const auto& d : *defs) reloaded[d.binding.meta.name] = d.fingerprint;
    CHECK(reloaded == running);
    auto plan = plan_reload(running, reloaded);
    CHECK(plan.unchanged == std::vector<std::string>{"a", "b"});
    CHECK(plan.empty_change());
    // The rewrite is not trivially equal: it changes every source location.
    for (const auto& d : *defs) CHECK(d.binding.meta.location.file == "rewritten.yaml");
}

TEST_CASE("moving documents around and adding comments changes nothing") {
    std::string moved = std::string("# a comment\n\n") + kPolicy;
    CHECK(plan_reload(fingerprints(kPolicy), fingerprints(moved)).empty_change());
}

// An identity whose selectors can be written in many orders: two alternatives of two keys each, one
// key with two values.
const char* kSelectors = R"(
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
      process:uid: [1000, 1001]
    - systemd:unit: agent.service
      process:gid: 1000
---
apiVersion: credgate.io/v1alpha1
kind: CredentialBinding
metadata: {name: a}
spec: {workloadID: ai-agent, credentialSource: src, propagation: {file: {}}}
)";

TEST_CASE("selector keys written in another order keep the binding running") {
    auto reordered = replaced(kSelectors, "    - process:path: /usr/bin/true\n      process:uid: [1000, 1001]\n",
                              "    - process:uid: [1000, 1001]\n      process:path: /usr/bin/true\n");
    reordered = replaced(reordered, "    - systemd:unit: agent.service\n      process:gid: 1000\n",
                         "    - process:gid: 1000\n      systemd:unit: agent.service\n");
    REQUIRE(reordered != kSelectors);
    auto plan = plan_reload(fingerprints(kSelectors), fingerprints(reordered));
    CHECK(plan.unchanged == std::vector<std::string>{"a"});
    CHECK(plan.empty_change());
}

TEST_CASE("selector alternatives and the values of a key written in another order keep the binding running") {
    auto values = replaced(kSelectors, "process:uid: [1000, 1001]", "process:uid: [1001, 1000]");
    CHECK(plan_reload(fingerprints(kSelectors), fingerprints(values)).empty_change());
    auto alternatives = replaced(kSelectors,
                                 "    - process:path: /usr/bin/true\n      process:uid: [1000, 1001]\n"
                                 "    - systemd:unit: agent.service\n      process:gid: 1000\n",
                                 "    - systemd:unit: agent.service\n      process:gid: 1000\n"
                                 "    - process:path: /usr/bin/true\n      process:uid: [1000, 1001]\n");
    CHECK(plan_reload(fingerprints(kSelectors), fingerprints(alternatives)).empty_change());
}

TEST_CASE("a changed selector value, or a key moved to another alternative, restarts the binding") {
    auto value = replaced(kSelectors, "process:uid: [1000, 1001]", "process:uid: [1000, 1002]");
    CHECK(plan_reload(fingerprints(kSelectors), fingerprints(value)).changed == std::vector<std::string>{"a"});
    // Same keys and values in all, but another identity: uid 1000 or 1001 is now required of the unit.
    auto moved = replaced(kSelectors,
                          "    - process:path: /usr/bin/true\n      process:uid: [1000, 1001]\n"
                          "    - systemd:unit: agent.service\n      process:gid: 1000\n",
                          "    - process:path: /usr/bin/true\n"
                          "    - systemd:unit: agent.service\n      process:gid: 1000\n"
                          "      process:uid: [1000, 1001]\n");
    CHECK(plan_reload(fingerprints(kSelectors), fingerprints(moved)).changed == std::vector<std::string>{"a"});
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

namespace {

// One field of a binding's definition: how to change it, and whether a change must restart the
// binding (be in its fingerprint).
struct Field {
    std::string path;
    std::function<void()> change;
    bool restarts = true;
};

BindingDefinition sample_definition() {
    BindingDefinition d;
    d.binding.meta.name = "a";
    d.binding.workload_id = "ai-agent";
    d.binding.credential_source = "src";
    d.source.meta.name = "src";
    d.source.vault.address = "http://127.0.0.1:8200";
    d.source.vault.role = "r";
    d.source.vault.path = "kv/data/x";
    d.source.vault.audience = {"vault"};
    d.identity.meta.name = "agent";
    d.identity.workload_id = "ai-agent";
    SelectorTerm term{SelectorKey::process_uid, {"1000"}, {}};
    d.identity.selectors = {SelectorAlternative{{term}, {}}};
    d.spiffe_id = "spiffe://example.org/ai-agent";
    return d;
}

// Every field of every struct a BindingDefinition holds. Each structured binding names all the
// fields of one struct, so this stops compiling ("N names provided ... has M members") when one gains
// or loses a field. Then add the new field to policy::fingerprint() in
// src/policy/binding_definition.cpp, unless changing it can never need a restart, and list it here
// either way.
std::vector<Field> fields_of(BindingDefinition& d) {
    auto& [binding, source, identity, spiffe_id, workload_uuid, fingerprint] = d;
    auto& [b_meta, workload_id, credential_source, propagation, output, refresh] = binding;
    auto& [file_name, format, field] = output;
    auto& [fraction_min, fraction_max, min_lead, static_interval, revoke_grace] = refresh;
    auto& [s_meta, vault] = source;
    auto& [address, ca_file, namespace_, auth_path, role, path, audience, method, params] = vault;
    auto& [i_meta, i_workload_id, selectors, allow_weak] = identity;
    auto& [alt_terms, alt_location] = selectors.at(0);
    auto& [term_key, term_values, term_location] = alt_terms.at(0);
    auto meta_fields = [](std::string prefix, ObjectMeta& m, bool name_restarts) {
        auto& [name, labels, location, field_locations] = m;
        return std::vector<Field>{
            {prefix + ".name", [&name] { name += "x"; }, name_restarts},
            {prefix + ".labels", [&labels] { labels["team"] = "a"; }, false},
            {prefix + ".location", [&location] { location.line += 1; }, false},
            {prefix + ".field_locations", [&field_locations] { field_locations["spec"].line = 9; }, false},
        };
    };
    std::vector<Field> out = {
        {"spiffe_id", [&spiffe_id] { spiffe_id += "x"; }},
        // Derived from spiffe_id, and the fingerprint itself: not inputs.
        {"workload_uuid", [&workload_uuid] { workload_uuid += "x"; }, false},
        {"fingerprint", [&fingerprint] { fingerprint += "x"; }, false},
        {"binding.workload_id", [&workload_id] { workload_id += "x"; }},
        {"binding.credential_source", [&credential_source] { credential_source += "x"; }},
        {"binding.propagation", [&propagation] { propagation = DeliveryBackend::sysfs; }},
        {"binding.output.file_name", [&file_name] { file_name += "x"; }},
        {"binding.output.format", [&format] { format = OutputFormat::raw; }},
        {"binding.output.field", [&field] { field = "key"; }},
        {"binding.refresh.lease_fraction_min", [&fraction_min] { fraction_min += 0.01; }},
        {"binding.refresh.lease_fraction_max", [&fraction_max] { fraction_max += 0.01; }},
        {"binding.refresh.min_lead", [&min_lead] { min_lead += std::chrono::seconds{1}; }},
        {"binding.refresh.static_interval", [&static_interval] { static_interval += std::chrono::seconds{1}; }},
        {"binding.refresh.revoke_grace", [&revoke_grace] { revoke_grace += std::chrono::seconds{1}; }},
        {"source.vault.address", [&address] { address += "1"; }},
        {"source.vault.ca_file", [&ca_file] { ca_file = "/etc/ca.pem"; }},
        {"source.vault.namespace_", [&namespace_] { namespace_ = "team-a"; }},
        {"source.vault.jwt_auth_method_path", [&auth_path] { auth_path += "x"; }},
        {"source.vault.role", [&role] { role += "x"; }},
        {"source.vault.path", [&path] { path += "x"; }},
        {"source.vault.audience", [&audience] { audience.push_back("other"); }},
        {"source.vault.method", [&method] { method = "POST"; }},
        {"source.vault.params", [&params] { params["ttl"] = "1h"; }},
        {"identity.workload_id", [&i_workload_id] { i_workload_id += "x"; }, false},  // == binding.workload_id
        {"identity.selectors", [&selectors] { selectors.push_back(selectors.front()); }},
        {"identity.allow_weak_selectors", [&allow_weak] { allow_weak = !allow_weak; }},
        {"identity.selectors[0].location", [&alt_location] { alt_location.line += 1; }, false},
        {"identity.selectors[0].terms", [&alt_terms] { alt_terms.push_back(alt_terms.front()); }},
        {"identity.selectors[0].terms[0].key", [&term_key] { term_key = SelectorKey::process_gid; }},
        {"identity.selectors[0].terms[0].values", [&term_values] { term_values.push_back("1001"); }},
        {"identity.selectors[0].terms[0].location", [&term_location] { term_location.line += 1; }, false},
    };
    // The source's name is the binding's credential_source once resolved; the identity's is reported.
    for (auto& f : meta_fields("binding.meta", b_meta, true)) out.push_back(std::move(f));
    for (auto& f : meta_fields("source.meta", s_meta, false)) out.push_back(std::move(f));
    for (auto& f : meta_fields("identity.meta", i_meta, true)) out.push_back(std::move(f));
    return out;
}

std::string fingerprint_of(const BindingDefinition& d) {
    return fingerprint(d.binding, d.source, d.identity, d.spiffe_id);
}

}  // namespace

TEST_CASE("every field of a binding's definition that can need a restart is in its fingerprint") {
    const BindingDefinition base = sample_definition();
    BindingDefinition probe = base;
    const size_t n = fields_of(probe).size();
    for (size_t i = 0; i < n; ++i) {
        BindingDefinition d = base;
        auto fields = fields_of(d);
        fields[i].change();
        INFO(fields[i].path);
        if (fields[i].restarts)
            CHECK_MESSAGE(fingerprint_of(d) != fingerprint_of(base),
                          "a change of this field must restart the binding: add it to policy::fingerprint()");
        else
            CHECK(fingerprint_of(d) == fingerprint_of(base));
    }
}
