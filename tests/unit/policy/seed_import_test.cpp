// SPDX-License-Identifier: Apache-2.0
// Converting core.riptides.io/v1alpha1 objects: what is copied, what is dropped with which note,
// what is flagged, what is refused, and that the result loads once the flagged items are fixed.
#include "policy/loader.hpp"
#include "policy/seed_import.hpp"
#include "policy/values.hpp"
#include "support/source_root.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace credgate::policy;
namespace fs = std::filesystem;

namespace {

fs::path fixtures() { return credgate::test::source_root() / "tests" / "fixtures" / "convert"; }

std::vector<ConvertedObject> convert_ok(std::string_view yaml) {
    auto r = convert_seed_text(yaml, "seed.yaml");
    if (!r) {
        for (const auto& d : r.error()) MESSAGE(d.to_string());
        FAIL("conversion failed");
    }
    return *r;
}

std::vector<Diagnostic> convert_errors(std::string_view yaml) {
    auto r = convert_seed_text(yaml, "seed.yaml");
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

const SeedValue* member(const SeedValue& map, std::string_view key) {
    for (const auto& [k, v] : map.members)
        if (k == key) return &v;
    return nullptr;
}

// The member at a dotted path of keys.
const SeedValue* at(const SeedValue& doc, std::initializer_list<std::string_view> keys) {
    const SeedValue* v = &doc;
    for (auto k : keys) {
        if (v == nullptr) return nullptr;
        v = member(*v, k);
    }
    return v;
}

const ConversionNote* note(const ConvertedObject& obj, NoteKind kind, std::string_view field) {
    for (const auto& n : obj.notes)
        if (n.kind == kind && n.finding.field == field) return &n;
    return nullptr;
}

std::size_t count(const ConvertedObject& obj, NoteKind kind) {
    std::size_t n = 0;
    for (const auto& x : obj.notes) n += x.kind == kind ? 1 : 0;
    return n;
}

// JSON is YAML: the converted documents, every scalar as a string, fed back to the real loader.
std::string json(const SeedValue& v) {
    auto quote = [](const std::string& s) {
        std::string out = "\"";
        for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        return out + "\"";
    };
    switch (v.type) {
        case SeedValue::Type::null: return "null";
        case SeedValue::Type::scalar: return quote(v.scalar);
        case SeedValue::Type::sequence: {
            std::string out = "[";
            for (const auto& i : v.items) out += (out.size() > 1 ? ", " : "") + json(i);
            return out + "]";
        }
        case SeedValue::Type::mapping: {
            std::string out = "{";
            for (const auto& [k, m] : v.members) out += (out.size() > 1 ? ", " : "") + quote(k) + ": " + json(m);
            return out + "}";
        }
    }
    return "";
}

std::string documents(const std::vector<ConvertedObject>& objects) {
    std::string out;
    for (const auto& o : objects)
        if (o.document) out += "---\n" + json(*o.document) + "\n";
    return out;
}

std::vector<ConvertedObject> convert_seed_fixture() {
    std::vector<ConvertedObject> all;
    for (auto name : {"credential-source.yaml", "workload-identity.yaml", "credential-binding.yaml"}) {
        auto r = convert_seed_file((fixtures() / "seed" / name).string());
        REQUIRE(r.has_value());
        REQUIRE(r->size() == 1);
        all.push_back(std::move(r->front()));
    }
    return all;
}

}  // namespace

TEST_CASE("the seed's three objects convert: credgate's apiVersion, no namespace, no scope, every change noted") {
    auto objects = convert_seed_fixture();
    CHECK(objects[0].object == "CredentialSource/vault-openai-apikeys");
    CHECK(objects[1].object == "WorkloadIdentity/ai-agent");
    CHECK(objects[2].object == "CredentialBinding/vault-openai-apikeys-binding");
    for (const auto& o : objects) {
        CAPTURE(o.object);
        REQUIRE(o.document);
        const SeedValue* api = at(*o.document, {"apiVersion"});
        REQUIRE(api);
        CHECK(api->scalar == kApiVersion);
        CHECK(note(o, NoteKind::changed, "apiVersion"));
        CHECK(at(*o.document, {"metadata", "name"}));
        CHECK_FALSE(at(*o.document, {"metadata", "namespace"}));
        const auto* ns = note(o, NoteKind::changed, "metadata.namespace");
        REQUIRE(ns);
        CHECK(ns->finding.message.find("'riptides-system'") != std::string::npos);
        CHECK(ns->finding.message.find("no namespaces") != std::string::npos);
        CHECK(ns->finding.location.line == 7 + (o.object.starts_with("WorkloadIdentity") ? 1 : 0));
        CHECK(count(o, NoteKind::dropped) == 0);
    }
    // Fields that mean the same are copied as written.
    CHECK(at(*objects[0].document, {"spec", "vault", "path"})->scalar == "openai/creds/my-role");
    CHECK(at(*objects[0].document, {"spec", "vault", "audience"})->items.at(0).scalar == "vault");
    CHECK(at(*objects[2].document, {"spec", "propagation", "sysfs"})->type == SeedValue::Type::mapping);
    CHECK(count(objects[0], NoteKind::attention) == 0);
    CHECK(count(objects[2], NoteKind::attention) == 0);

    const ConvertedObject& id = objects[1];
    CHECK_FALSE(at(*id.document, {"spec", "scope"}));
    const auto* scope = note(id, NoteKind::changed, "spec.scope.agent.id");
    REQUIRE(scope);
    CHECK(scope->finding.message.find("agent.id 'ai-node-1' dropped: the scope is now this node") !=
          std::string::npos);
    CHECK(scope->finding.message.find("install this file on the node of agent 'ai-node-1'") != std::string::npos);
    CHECK(scope->finding.message.find("'node' in credgate.yaml") != std::string::npos);
    CHECK(scope->finding.location.line == 12);
}

TEST_CASE("a process:name-only selector is kept and flagged with the strong keys to add") {
    auto objects = convert_seed_fixture();
    const ConvertedObject& id = objects[1];
    const SeedValue* selectors = at(*id.document, {"spec", "selectors"});
    REQUIRE(selectors);
    REQUIRE(selectors->items.size() == 1);
    CHECK(member(selectors->items[0], "process:name")->items.at(0).scalar == "ai-agent");
    CHECK(count(id, NoteKind::attention) == 1);
    const auto* flag = note(id, NoteKind::attention, "spec.selectors[0]");
    REQUIRE(flag);
    CHECK(flag->finding.message.find("process:name alone is spoofable") != std::string::npos);
    CHECK(flag->finding.message.find(strong_selector_key_list()) != std::string::npos);
    CHECK(flag->finding.object == "WorkloadIdentity/ai-agent");
    CHECK(flag->finding.location.line == 15);
    CHECK(flag->finding.location.column == 7);
}

TEST_CASE("the converted seed loads once the flagged selector names the program") {
    auto objects = convert_seed_fixture();
    // As converted, credgate refuses the weak selector: the flag is not a formality.
    auto as_converted = load_policies_from_string(documents(objects), "converted.yaml", "example.org");
    REQUIRE_FALSE(as_converted.has_value());
    bool weak_error = false;
    for (const auto& d : as_converted.error())
        weak_error = weak_error || (d.field == "spec.selectors[0]" &&
                                    d.message.find("process:name alone is spoofable") != std::string::npos);
    CHECK(weak_error);
    CHECK(as_converted.error().size() == 1);

    SeedValue& alt = objects[1].document->members.back().value.members.back().value.items.at(0);
    SeedValue path;
    path.type = SeedValue::Type::scalar;
    path.scalar = "/opt/ai-agent/bin/ai-agent";
    alt.members.emplace_back("process:path", path);
    auto loaded = load_policies_from_string(documents(objects), "converted.yaml", "example.org");
    if (!loaded)
        for (const auto& d : loaded.error()) MESSAGE(d.to_string());
    REQUIRE(loaded.has_value());
    CHECK(loaded->value.identities.size() == 1);
    CHECK(loaded->value.sources.size() == 1);
    CHECK(loaded->value.bindings.size() == 1);
    CHECK(loaded->value.bindings[0].propagation == DeliveryBackend::sysfs);
}

TEST_CASE("strong selectors convert with nothing flagged and load as converted") {
    auto r = convert_seed_file((fixtures() / "strong-selectors.yaml").string());
    REQUIRE(r.has_value());
    REQUIRE(r->size() == 1);
    CHECK(count(r->front(), NoteKind::attention) == 0);
    CHECK(count(r->front(), NoteKind::dropped) == 0);
    CHECK(at(*r->front().document, {"metadata", "labels", "team"})->scalar == "ml");
    auto loaded = load_policies_from_string(documents(*r), "converted.yaml", "example.org");
    CHECK(loaded.has_value());
}

TEST_CASE("fields and objects with no credgate equivalent are dropped with a warning note each") {
    auto r = convert_seed_file((fixtures() / "no-equivalent.yaml").string());
    REQUIRE(r.has_value());
    REQUIRE(r->size() == 3);
    const ConvertedObject& id = (*r)[0];
    CHECK_FALSE(at(*id.document, {"metadata", "annotations"}));
    CHECK(note(id, NoteKind::dropped, "metadata.annotations"));
    CHECK_FALSE(at(*id.document, {"spec", "svid"}));
    const auto* svid = note(id, NoteKind::dropped, "spec.svid");
    REQUIRE(svid);
    CHECK(svid->finding.message.find("issuer.tokenTTL") != std::string::npos);
    CHECK(svid->finding.severity == Severity::warning);
    const auto* group = note(id, NoteKind::changed, "spec.scope.agentGroup.id");
    REQUIRE(group);
    CHECK(group->finding.message.find("every node of group 'gpu-nodes'") != std::string::npos);
    CHECK(count(id, NoteKind::attention) == 0);

    const ConvertedObject& binding = (*r)[1];
    const SeedValue* propagation = at(*binding.document, {"spec", "propagation"});
    REQUIRE(propagation);
    REQUIRE(propagation->members.size() == 1);
    CHECK(propagation->members[0].key == "sysfs");
    CHECK(note(binding, NoteKind::dropped, "spec.propagation.injection"));
    CHECK(count(binding, NoteKind::attention) == 0);

    const ConvertedObject& verifier = (*r)[2];
    CHECK(verifier.object == "Verifier/dev-jointoken");
    CHECK_FALSE(verifier.document.has_value());
    const auto* whole = note(verifier, NoteKind::dropped, "");
    REQUIRE(whole);
    CHECK(whole->finding.message.find("auth.riptides.io/v1alpha1 Verifier has no credgate equivalent") !=
          std::string::npos);

    auto loaded = load_policies_from_string(documents(*r), "converted.yaml", "example.org");
    // Only the binding's source is missing (it is in another file of the seed).
    REQUIRE_FALSE(loaded.has_value());
    REQUIRE(loaded.error().size() == 1);
    CHECK(loaded.error()[0].message.find("no CredentialSource is named 'vault-openai-apikeys'") != std::string::npos);
}

TEST_CASE("a selector key with no credgate equivalent is dropped and flagged: the alternative now matches more") {
    auto objects = convert_ok(R"(apiVersion: core.riptides.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: app}
spec:
  workloadID: app
  selectors:
    - process:uid: 1000
      process:cmdline: /usr/bin/python3 app.py
    - k8s:label:app: web
)");
    const ConvertedObject& id = objects.at(0);
    const SeedValue* selectors = at(*id.document, {"spec", "selectors"});
    REQUIRE(selectors->items.size() == 2);
    CHECK(selectors->items[0].members.size() == 1);
    CHECK(selectors->items[1].members.empty());
    const auto* cmdline = note(id, NoteKind::attention, "spec.selectors[0].process:cmdline");
    REQUIRE(cmdline);
    CHECK(cmdline->finding.message.find("matches more processes") != std::string::npos);
    CHECK_FALSE(note(id, NoteKind::attention, "spec.selectors[0]"));  // process:uid is strong
    CHECK(note(id, NoteKind::attention, "spec.selectors[1].k8s:label:app"));
    const auto* empty = note(id, NoteKind::attention, "spec.selectors[1]");
    REQUIRE(empty);
    CHECK(empty->finding.message.find("would match every process") != std::string::npos);
}

TEST_CASE("a selector value credgate does not accept is flagged") {
    auto objects = convert_ok(R"(apiVersion: core.riptides.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: app}
spec:
  workloadID: app
  selectors:
    - process:uid: 1000
      process:name: [app, a-process-name-longer-than-comm]
)");
    const auto* flag = note(objects.at(0), NoteKind::attention, "spec.selectors[0].process:name");
    REQUIRE(flag);
    CHECK(flag->finding.location.line == 8);
    CHECK(flag->finding.location.column == 27);
}

TEST_CASE("a binding delivered only by injection loses its propagation and is flagged") {
    auto objects = convert_ok(R"(apiVersion: core.riptides.io/v1alpha1
kind: CredentialBinding
metadata: {name: b}
spec:
  workloadID: app
  credentialSource: s
  propagation:
    injection:
      selectors: [{app: openai-api}]
)");
    const ConvertedObject& b = objects.at(0);
    CHECK_FALSE(at(*b.document, {"spec", "propagation"}));
    CHECK(note(b, NoteKind::dropped, "spec.propagation.injection"));
    const auto* flag = note(b, NoteKind::attention, "spec.propagation");
    REQUIRE(flag);
    CHECK(flag->finding.message.find("must read the file") != std::string::npos);
}

TEST_CASE("a source that is not Vault is flagged, its provider dropped") {
    auto objects = convert_ok(R"(apiVersion: core.riptides.io/v1alpha1
kind: CredentialSource
metadata: {name: s}
spec:
  aws:
    roleArn: arn:aws:iam::123456789012:role/my-role
)");
    const ConvertedObject& s = objects.at(0);
    const auto* aws = note(s, NoteKind::dropped, "spec.aws");
    REQUIRE(aws);
    CHECK(aws->finding.message.find("Vault/OpenBao only") != std::string::npos);
    CHECK(note(s, NoteKind::attention, "spec"));
}

TEST_CASE("status is dropped as an expected change, unknown top-level fields with a warning") {
    auto objects = convert_ok(R"(apiVersion: core.riptides.io/v1alpha1
kind: Service
metadata: {name: openai-api}
spec:
  addresses: [{address: api.openai.com, port: 443}]
  external: true
status: {state: OK}
extra: 1
)");
    const ConvertedObject& s = objects.at(0);
    CHECK_FALSE(member(*s.document, "status"));
    CHECK_FALSE(member(*s.document, "extra"));
    CHECK(note(s, NoteKind::changed, "status"));
    CHECK(note(s, NoteKind::dropped, "extra"));
    CHECK(count(s, NoteKind::attention) == 0);
}

TEST_CASE("plain scalars keep what a YAML reader makes of them; quoted ones stay text") {
    auto objects = convert_ok(R"(apiVersion: core.riptides.io/v1alpha1
kind: Service
metadata: {name: s}
spec:
  addresses: [{address: a, port: 443}, {address: b, port: "443"}, {address: c, port: 007}]
  labels: {f: 0.80, e: 1e3, t: true, q: "true", n: -12, d: 1.}
)");
    const SeedValue* addresses = at(*objects.at(0).document, {"spec", "addresses"});
    using T = SeedValue::ScalarType;
    CHECK(member(addresses->items.at(0), "port")->scalar_type == T::integer);
    CHECK(member(addresses->items.at(1), "port")->scalar_type == T::text);
    CHECK(member(addresses->items.at(2), "port")->scalar_type == T::text);
    const SeedValue* labels = at(*objects.at(0).document, {"spec", "labels"});
    CHECK(member(*labels, "f")->scalar_type == T::number);
    CHECK(member(*labels, "e")->scalar_type == T::number);
    CHECK(member(*labels, "t")->scalar_type == T::boolean);
    CHECK(member(*labels, "q")->scalar_type == T::text);
    CHECK(member(*labels, "n")->scalar_type == T::integer);
    CHECK(member(*labels, "d")->scalar_type == T::text);
    CHECK(member(*labels, "f")->scalar == "0.80");
}

TEST_CASE("a credgate.io document is copied as written") {
    auto objects = convert_ok(R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata: {name: app, namespace: kept-for-validate-to-report}
spec: {workloadID: app, selectors: [{process:name: app}]}
)");
    const ConvertedObject& o = objects.at(0);
    CHECK(at(*o.document, {"metadata", "namespace"}));
    CHECK(count(o, NoteKind::attention) == 0);
    CHECK(count(o, NoteKind::dropped) == 0);
    CHECK(note(o, NoteKind::changed, "apiVersion"));
}

TEST_CASE("input that is not YAML objects is refused with the file and place") {
    auto bad = convert_errors("kind: [WorkloadIdentity\n");
    REQUIRE(bad.size() == 1);
    CHECK(bad[0].location.file == "seed.yaml");
    CHECK(bad[0].location.line >= 1);
    CHECK(bad[0].message.starts_with("not YAML: "));

    auto list = convert_errors("- a\n- b\n");
    CHECK(list.at(0).message.find("got a list") != std::string::npos);

    auto no_kind = convert_errors("apiVersion: core.riptides.io/v1alpha1\nmetadata: {name: x}\n");
    CHECK(no_kind.at(0).message.find("no apiVersion or no kind") != std::string::npos);

    auto second = convert_errors(R"(apiVersion: core.riptides.io/v1alpha1
kind: Service
metadata: {name: s}
---
just text
)");
    CHECK(second.at(0).location.line == 5);

    auto empty = convert_errors("# only a comment\n");
    CHECK(empty.at(0).message == "holds no YAML document to convert");

    auto missing = convert_seed_file("/nonexistent/seed.yaml");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().at(0).location.file == "/nonexistent/seed.yaml");
    CHECK(missing.error().at(0).message.starts_with("cannot read: "));

    auto broken = convert_seed_file((fixtures() / "not-yaml.yaml").string());
    REQUIRE_FALSE(broken.has_value());
    CHECK(broken.error().at(0).to_string().starts_with((fixtures() / "not-yaml.yaml").string() + ":"));
}

TEST_CASE("a document that cannot start (a stray ',') is not YAML, and the conversion returns") {
    auto comma = convert_seed_text(",\n", "comma.yaml");
    REQUIRE_FALSE(comma.has_value());
    CHECK(comma.error().at(0).to_string() == "comma.yaml:1:1: not YAML: no YAML document can start here (a stray ',' or flow "
                                              "indicator?)");
}

TEST_CASE("validate's apiVersion hint names convert for the seed's group only") {
    CHECK(api_version_hint(kSeedApiVersion).find("credgatectl convert FILE") != std::string::npos);
    CHECK(api_version_hint("core.riptides.io/v1beta1").empty());
    CHECK(api_version_hint(kApiVersion).empty());
}
