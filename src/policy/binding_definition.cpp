// SPDX-License-Identifier: Apache-2.0
// Resolution of bindings into self-contained definitions, their fingerprints, and reload diffing.
#include "policy/binding_definition.hpp"

#include "policy/values.hpp"
#include "spiffe/spiffe_id.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace credgate::policy {
namespace {

// Length-prefixed fields, so no value can be crafted to look like another field.
void field(std::string& out, std::string_view name, std::string_view value) {
    out += fmt::format("{}={}:{};", name, value.size(), value);
}

// The selectors with their order left out, because it means nothing: a process matches an identity
// when it matches any alternative (bpf/credgate.bpf.c tries them all), an alternative when it matches
// every term (identity/compile.cpp intersects them), and a term when it matches any of its values.
// Each level is written sorted; a term or an alternative given twice still counts twice.
std::string selectors_text(const std::vector<SelectorAlternative>& selectors) {
    std::vector<std::string> alternatives;
    for (const auto& alternative : selectors) {
        std::vector<std::string> terms;
        for (const auto& t : alternative.terms) {
            std::vector<std::string> values = t.values;
            std::sort(values.begin(), values.end());
            std::string term;
            field(term, "key", to_string(t.key));
            for (const auto& v : values) field(term, "value", v);
            terms.push_back(std::move(term));
        }
        std::sort(terms.begin(), terms.end());
        std::string text;
        for (const auto& t : terms) field(text, "term", t);
        alternatives.push_back(std::move(text));
    }
    std::sort(alternatives.begin(), alternatives.end());
    std::string out;
    for (const auto& a : alternatives) field(out, "alt", a);
    return out;
}

}  // namespace

std::string fingerprint(const policy::CredentialBinding& b, const policy::CredentialSource& s,
                        const policy::WorkloadIdentity& i, const std::string& spiffe_id) {
    std::string out;
    field(out, "binding", b.meta.name);
    field(out, "workload", b.workload_id);
    field(out, "spiffe", spiffe_id);
    field(out, "source", b.credential_source);
    field(out, "propagation", std::to_string(static_cast<int>(b.propagation)));
    field(out, "output.file", b.output.file_name);
    field(out, "output.format", std::to_string(static_cast<int>(b.output.format)));
    field(out, "output.field", b.output.field.value_or("\x01"));
    field(out, "refresh",
          fmt::format("{}/{}/{}/{}/{}", b.refresh.lease_fraction_min, b.refresh.lease_fraction_max,
                      b.refresh.min_lead.count(), b.refresh.static_interval.count(), b.refresh.revoke_grace.count()));
    const auto& v = s.vault;
    field(out, "vault.address", v.address);
    field(out, "vault.ca", v.ca_file.value_or("\x01"));
    field(out, "vault.namespace", v.namespace_.value_or("\x01"));
    field(out, "vault.mount", v.jwt_auth_method_path);
    field(out, "vault.role", v.role);
    field(out, "vault.path", v.path);
    for (const auto& a : v.audience) field(out, "vault.audience", a);
    field(out, "vault.method", v.method);
    for (const auto& [k, val] : v.params) field(out, "vault.param." + k, val);
    field(out, "identity", i.meta.name);
    field(out, "identity.weak", i.allow_weak_selectors ? "1" : "0");
    field(out, "identity.selectors", selectors_text(i.selectors));
    return out;
}

std::string config_fingerprint(const policy::AgentConfig& c) {
    std::string out;
    field(out, "trustDomain", c.trust_domain);
    field(out, "node", c.node);
    field(out, "issuer.url", c.issuer.url);
    field(out, "issuer.listen", c.issuer.listen);
    field(out, "issuer.tlsCert", c.issuer.tls_cert.value_or("\x01"));
    field(out, "issuer.tlsKey", c.issuer.tls_key.value_or("\x01"));
    field(out, "issuer.algorithm", std::to_string(static_cast<int>(c.issuer.algorithm)));
    field(out, "issuer.tokenTTL", std::to_string(c.issuer.token_ttl.count()));
    field(out, "issuer.keyRotation", std::to_string(c.issuer.key_rotation.count()));
    field(out, "issuer.keyFile", c.issuer.key_file.value_or("\x01"));
    field(out, "delivery.backend", std::to_string(static_cast<int>(c.delivery.backend)));
    field(out, "delivery.fileRoot", c.delivery.file_root);
    field(out, "delivery.sysfsRoot", c.delivery.sysfs_root);
    field(out, "enforcement.mode", std::to_string(static_cast<int>(c.enforcement.mode)));
    field(out, "enforcement.pinDir", c.enforcement.pin_dir);
    field(out, "enforcement.ownerExecutables", std::to_string(c.enforcement.owner_executables.size()));
    for (const auto& exe : c.enforcement.owner_executables) field(out, "enforcement.ownerExecutables[]", exe);
    field(out, "control.socket", c.control.socket);
    field(out, "metrics.listen", c.metrics.listen.value_or("\x01"));
    field(out, "policies.dir", c.policies_dir);
    field(out, "revokeOnShutdown", c.revoke_on_shutdown ? "1" : "0");
    return out;
}

Result<std::vector<BindingDefinition>> resolve_bindings(const policy::PolicySet& policies,
                                                        const std::string& trust_domain) {
    std::vector<BindingDefinition> out;
    for (const auto& b : policies.bindings) {
        const auto* src = policies.source(b.credential_source);
        const auto* id = policies.identity_by_workload_id(b.workload_id);
        if (!src || !id)
            return fail(ErrorKind::internal, fmt::format("binding '{}': its {} '{}' is not in the loaded policy",
                                                         b.meta.name, src ? "workload identity" : "credential source",
                                                         src ? b.workload_id : b.credential_source));
        auto spiffe = spiffe::spiffe_id_for_workload(trust_domain, b.workload_id);
        if (!spiffe)
            return fail(ErrorKind::invalid_argument,
                        fmt::format("binding '{}': {}", b.meta.name, spiffe.error().message));
        auto uuid = spiffe::workload_uuid(*spiffe);
        if (!uuid) return fail(uuid.error());
        BindingDefinition d{b, *src, *id, spiffe->str(), *uuid, {}};
        d.fingerprint = fingerprint(b, *src, *id, d.spiffe_id);
        // Where each field was written serves only the loader's diagnostics, which are done: a running
        // binding keeps none of it (with thousands of bindings sharing one identity and one source, these
        // copies were most of a binding's memory).
        d.binding.meta.field_locations.clear();
        d.source.meta.field_locations.clear();
        d.identity.meta.field_locations.clear();
        out.push_back(std::move(d));
    }
    return out;
}

ReloadPlan plan_reload(const std::map<std::string, std::string>& running,
                       const std::map<std::string, std::string>& loaded) {
    ReloadPlan plan;
    for (const auto& [name, fp] : running) {
        auto it = loaded.find(name);
        if (it == loaded.end())
            plan.removed.push_back(name);
        else if (it->second == fp)
            plan.unchanged.push_back(name);
        else
            plan.changed.push_back(name);
    }
    for (const auto& [name, fp] : loaded)
        if (!running.contains(name)) plan.added.push_back(name);
    return plan;
}

}  // namespace credgate::policy
