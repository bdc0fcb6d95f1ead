// SPDX-License-Identifier: Apache-2.0
// Semantic rules over the plain-data model: required fields, value rules, selector strength,
// uniqueness and cross-references, each finding located through the objects' field_locations.
#include "policy/validate.hpp"

#include "common/url.hpp"
#include "policy/values.hpp"
#include "spiffe/spiffe_id.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace credgate::policy {
namespace {

// The location of `field`, or of its nearest recorded ancestor, or `fallback`.
SourceLocation locate(const FieldLocations& locs, std::string field, const SourceLocation& fallback) {
    while (!field.empty()) {
        if (auto it = locs.find(field); it != locs.end()) return it->second;
        auto cut = field.find_last_of(".[");
        if (cut == std::string::npos) break;
        field.resize(cut);
    }
    return fallback;
}

std::string at(const SourceLocation& l) {
    if (l.file.empty()) return "<input>";
    if (l.line == 0) return l.file;
    return fmt::format("{}:{}:{}", l.file, l.line, l.column);
}

class Findings {
public:
    explicit Findings(std::vector<Diagnostic>& out) : out_(out) {}

    void object(std::string ref, const FieldLocations* locs, SourceLocation fallback) {
        ref_ = std::move(ref);
        locs_ = locs;
        fallback_ = std::move(fallback);
    }
    SourceLocation where(const std::string& field) const {
        static const FieldLocations kNone;
        return locate(locs_ ? *locs_ : kNone, field, fallback_);
    }
    void error(const std::string& field, std::string message) { add(Severity::error, field, std::move(message)); }
    void warning(const std::string& field, std::string message) {
        add(Severity::warning, field, std::move(message));
    }
    // Reports `problem` (if any) at `field`.
    void check(const std::string& field, const std::optional<std::string>& problem) {
        if (problem) error(field, *problem);
    }

private:
    void add(Severity s, const std::string& field, std::string message) {
        out_.push_back(Diagnostic{s, where(field), ref_, field, std::move(message)});
    }
    std::vector<Diagnostic>& out_;
    std::string ref_;
    const FieldLocations* locs_ = nullptr;
    SourceLocation fallback_;
};

void check_name(Findings& f, const ObjectMeta& meta) {
    if (meta.name.empty()) f.error("metadata.name", "is required");
    else f.check("metadata.name", object_name_error(meta.name));
    for (const auto& [k, v] : meta.labels)
        if (k.empty()) f.error("metadata.labels", "label keys must not be empty");
}

// A relative API path of non-empty segments, e.g. "openai/creds/my-role".
std::optional<std::string> api_path_error(std::string_view p, std::string_view example) {
    if (p.empty()) return "must not be empty";
    if (p.front() == '/') return fmt::format("must not start with '/' (write e.g. '{}')", example);
    if (p.back() == '/') return "must not end with '/'";
    if (p.find_first_of("?#") != std::string_view::npos) return "must not contain '?' or '#' (use params)";
    std::size_t start = 0;
    while (start <= p.size()) {
        auto end = p.find('/', start);
        if (end == std::string_view::npos) end = p.size();
        auto seg = p.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..") return "must not contain empty, '.' or '..' segments";
        for (char c : seg)
            if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) == 0x7f)
                return "must not contain spaces or control characters";
        start = end + 1;
    }
    return std::nullopt;
}

void check_identity(Findings& f, const WorkloadIdentity& id, const std::optional<std::string>& trust_domain) {
    check_name(f, id.meta);
    if (id.workload_id.empty()) {
        f.error("spec.workloadID", "is required (the SPIFFE path under the trust domain, e.g. 'ai-agent')");
    } else if (trust_domain) {
        if (auto r = spiffe::spiffe_id_for_workload(*trust_domain, id.workload_id); !r)
            f.error("spec.workloadID", r.error().message);
    } else {
        f.check("spec.workloadID", spiffe::workload_id_error(id.workload_id).transform([](std::string m) {
            return "workload ID " + m;
        }));
    }
    if (id.selectors.empty()) {
        f.error("spec.selectors", "at least one selector alternative is required; without one no process gets the identity");
        return;
    }
    if (id.selectors.size() > kMaxSelectorAlternatives)
        f.error("spec.selectors", fmt::format("{} alternatives; the kernel rules hold at most {} per identity",
                                              id.selectors.size(), kMaxSelectorAlternatives));
    for (std::size_t i = 0; i < id.selectors.size(); ++i) {
        const auto& alt = id.selectors[i];
        const std::string af = fmt::format("spec.selectors[{}]", i);
        if (alt.terms.empty()) {
            f.error(af, "an empty selector alternative would match every process; list at least one selector");
            continue;
        }
        std::set<SelectorKey> keys;
        for (const auto& t : alt.terms) {
            const std::string tf = fmt::format("{}.{}", af, to_string(t.key));
            if (!keys.insert(t.key).second) f.error(tf, "selector key given twice in one alternative");
            if (t.values.empty()) f.error(tf, "an empty list matches nothing; give at least one value");
            for (std::size_t j = 0; j < t.values.size(); ++j)
                if (auto e = selector_value_error(t.key, t.values[j])) f.error(fmt::format("{}[{}]", tf, j), *e);
        }
        bool weak_only =
            std::none_of(alt.terms.begin(), alt.terms.end(), [](const SelectorTerm& t) { return is_strong(t.key); });
        if (weak_only) {
            if (!id.allow_weak_selectors)
                f.error(af, "process:name alone is spoofable (any process can rename itself with prctl(PR_SET_NAME) "
                            "or /proc/self/comm); AND it with process:path, process:sha256, systemd:unit, "
                            "cgroup:path or process:uid, or set allowWeakSelectors: true");
            else
                f.warning(af, "process:name alone is spoofable: any process that renames itself gets this identity "
                              "(allowed by allowWeakSelectors: true)");
            continue;
        }
        bool names_program = keys.count(SelectorKey::process_path) > 0 || keys.count(SelectorKey::process_sha256) > 0;
        bool names_runner = keys.count(SelectorKey::process_uid) > 0 || keys.count(SelectorKey::process_user) > 0 ||
                            keys.count(SelectorKey::systemd_unit) > 0 || keys.count(SelectorKey::cgroup_path) > 0;
        if (names_program && !names_runner)
            f.warning(af, "this alternative names only the program: anyone who can run that program, with any "
                          "environment (such as LD_PRELOAD or interpreter options), gets the identity; add "
                          "systemd:unit (strongest on a systemd host) or process:uid");
    }
}

void check_source(Findings& f, const CredentialSource& s) {
    check_name(f, s.meta);
    const VaultSource& v = s.vault;
    const std::string p = "spec.vault";
    if (v.address.empty()) f.error(p + ".address", "is required (e.g. https://vault.example.org:8200)");
    else f.check(p + ".address", vault_address_error(v.address));
    if (v.ca_file) f.check(p + ".caFile", absolute_path_error(*v.ca_file));
    if (v.namespace_) f.check(p + ".namespace", api_path_error(*v.namespace_, "team-a"));
    if (v.jwt_auth_method_path.empty()) f.error(p + ".jwtAuthMethodPath", "must not be empty");
    else if (v.jwt_auth_method_path.starts_with("auth/") || v.jwt_auth_method_path.starts_with("/auth/"))
        f.error(p + ".jwtAuthMethodPath", "is the mount path under auth/, e.g. 'jwt' for auth/jwt; leave out 'auth/'");
    else f.check(p + ".jwtAuthMethodPath", api_path_error(v.jwt_auth_method_path, "jwt"));
    if (v.role.empty()) f.error(p + ".role", "is required (the Vault JWT auth role)");
    else if (v.role.find('/') != std::string::npos) f.error(p + ".role", "must not contain '/'");
    if (v.path.empty()) f.error(p + ".path", "is required (e.g. openai/creds/my-role)");
    else if (v.path.starts_with("v1/") || v.path.starts_with("/v1/"))
        f.error(p + ".path", "is the API path without '/v1/', e.g. 'openai/creds/my-role'");
    else f.check(p + ".path", api_path_error(v.path, "openai/creds/my-role"));
    if (v.audience.empty()) f.error(p + ".audience", "at least one audience is required (e.g. [vault])");
    for (std::size_t i = 0; i < v.audience.size(); ++i)
        if (v.audience[i].empty()) f.error(fmt::format("{}.audience[{}]", p, i), "must not be empty");
    if (v.method != "GET" && v.method != "POST" && v.method != "PUT")
        f.error(p + ".method", fmt::format("unsupported method '{}' (expected GET, POST or PUT)", v.method));
    for (const auto& [k, val] : v.params)
        if (k.empty()) f.error(p + ".params", "parameter names must not be empty");
}

void check_binding(Findings& f, const CredentialBinding& b) {
    check_name(f, b.meta);
    if (b.workload_id.empty()) f.error("spec.workloadID", "is required (the workloadID of a WorkloadIdentity)");
    if (b.credential_source.empty())
        f.error("spec.credentialSource", "is required (the name of a CredentialSource)");
    f.check("spec.output.file", file_name_error(b.output.file_name));
    if (b.output.format == OutputFormat::raw && (!b.output.field || b.output.field->empty()))
        f.error("spec.output.format", "format raw requires 'field', the name of the secret's field to write");
    if (b.output.format != OutputFormat::raw && b.output.field)
        f.error("spec.output.field", fmt::format("'field' is used only with format raw (format is {})",
                                                 to_string(b.output.format)));
    const auto& r = b.refresh;
    if (!(r.lease_fraction_min > 0.0 && r.lease_fraction_min < 1.0))
        f.error("spec.refresh.leaseFractionMin", fmt::format("must be between 0 and 1 (exclusive), got {}", r.lease_fraction_min));
    if (!(r.lease_fraction_max > 0.0 && r.lease_fraction_max < 1.0))
        f.error("spec.refresh.leaseFractionMax", fmt::format("must be between 0 and 1 (exclusive), got {}", r.lease_fraction_max));
    else if (r.lease_fraction_min > r.lease_fraction_max)
        f.error("spec.refresh.leaseFractionMax",
                fmt::format("must not be smaller than leaseFractionMin ({})", r.lease_fraction_min));
    if (r.min_lead.count() <= 0) f.error("spec.refresh.minLead", "must be longer than 0s");
    if (r.static_interval.count() <= 0) f.error("spec.refresh.staticInterval", "must be longer than 0s");
    if (r.revoke_grace.count() < 0) f.error("spec.refresh.revokeGrace", "must not be negative");
}

void check_service(Findings& f, const Service& s) {
    check_name(f, s.meta);
    if (s.addresses.empty()) f.error("spec.addresses", "at least one {address, port} is required");
    for (std::size_t i = 0; i < s.addresses.size(); ++i) {
        const auto& a = s.addresses[i];
        const std::string af = fmt::format("spec.addresses[{}]", i);
        if (a.address.empty()) f.error(af + ".address", "is required");
        else f.check(af + ".address", host_error(a.address));
        if (a.port == 0) f.error(af + ".port", "is required (1..65535)");
    }
    for (const auto& [k, v] : s.labels)
        if (k.empty()) f.error("spec.labels", "label keys must not be empty");
}

// Reports the second and later objects that share a key with an earlier one.
template <typename T, typename KeyFn>
void check_unique(Findings& f, std::string_view kind, const std::vector<T>& objects, const std::string& field,
                  std::string_view what, KeyFn key) {
    std::map<std::string, const T*> first;
    for (const auto& o : objects) {
        std::string k = key(o);
        if (k.empty()) continue;
        auto [it, inserted] = first.emplace(k, &o);
        if (inserted) continue;
        f.object(object_ref(kind, o.meta.name), &o.meta.field_locations, o.meta.location);
        const auto& prev = it->second->meta;
        f.error(field, fmt::format("duplicate {} '{}': {}/{} at {} already has it", what, k, kind, prev.name,
                                   at(locate(prev.field_locations, field, prev.location))));
    }
}

}  // namespace

std::vector<Diagnostic> validate_policy_set(const PolicySet& set, const std::optional<std::string>& trust_domain) {
    std::vector<Diagnostic> out;
    Findings f(out);
    for (const auto& o : set.identities) {
        f.object(object_ref("WorkloadIdentity", o.meta.name), &o.meta.field_locations, o.meta.location);
        check_identity(f, o, trust_domain);
    }
    for (const auto& o : set.sources) {
        f.object(object_ref("CredentialSource", o.meta.name), &o.meta.field_locations, o.meta.location);
        check_source(f, o);
    }
    for (const auto& o : set.bindings) {
        f.object(object_ref("CredentialBinding", o.meta.name), &o.meta.field_locations, o.meta.location);
        check_binding(f, o);
        if (!o.workload_id.empty() && set.identity_by_workload_id(o.workload_id) == nullptr)
            f.error("spec.workloadID", fmt::format("no WorkloadIdentity has workloadID '{}'", o.workload_id));
        if (!o.credential_source.empty() && set.source(o.credential_source) == nullptr)
            f.error("spec.credentialSource", fmt::format("no CredentialSource is named '{}'", o.credential_source));
    }
    for (const auto& o : set.services) {
        f.object(object_ref("Service", o.meta.name), &o.meta.field_locations, o.meta.location);
        check_service(f, o);
    }
    if (set.bindings.size() > kMaxBindings) {
        const auto& extra = set.bindings[kMaxBindings];
        f.object(object_ref("CredentialBinding", extra.meta.name), &extra.meta.field_locations, extra.meta.location);
        f.error("", fmt::format("{} bindings; the kernel rules hold at most {}", set.bindings.size(), kMaxBindings));
    }
    auto name = [](const auto& o) { return o.meta.name; };
    check_unique(f, "WorkloadIdentity", set.identities, "metadata.name", "name", name);
    check_unique(f, "CredentialSource", set.sources, "metadata.name", "name", name);
    check_unique(f, "CredentialBinding", set.bindings, "metadata.name", "name", name);
    check_unique(f, "Service", set.services, "metadata.name", "name", name);
    check_unique(f, "WorkloadIdentity", set.identities, "spec.workloadID", "workloadID",
                 [](const WorkloadIdentity& i) { return i.workload_id; });
    return out;
}

std::vector<Diagnostic> validate_agent_config(const AgentConfig& c) {
    std::vector<Diagnostic> out;
    Findings f(out);
    f.object("", &c.field_locations, c.location);
    if (c.trust_domain.empty()) f.error("trustDomain", "is required (e.g. example.org)");
    else f.check("trustDomain", spiffe::trust_domain_error(c.trust_domain));
    if (!c.node.empty()) {
        bool ok = c.node.size() <= 253 && std::all_of(c.node.begin(), c.node.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                   ch == '-' || ch == '_';
        });
        if (!ok) f.error("node", "must be at most 253 letters, digits, '.', '-' or '_'");
    }
    const auto& i = c.issuer;
    if (i.url.empty()) f.error("issuer.url", "is required (the exact issuer URL Vault is configured with)");
    else if (auto e = http_url_error(i.url)) f.error("issuer.url", *e);
    else if (i.url.back() == '/')
        f.error("issuer.url", "must not end with '/': Vault compares the issuer string exactly");
    f.check("issuer.listen", listen_address_error(i.listen));
    if (i.tls_cert.has_value() != i.tls_key.has_value())
        f.error(i.tls_cert ? "issuer.tlsCert" : "issuer.tlsKey", "tlsCert and tlsKey must be set together");
    if (i.tls_cert) f.check("issuer.tlsCert", absolute_path_error(*i.tls_cert));
    if (i.tls_key) f.check("issuer.tlsKey", absolute_path_error(*i.tls_key));
    if (i.key_file) f.check("issuer.keyFile", absolute_path_error(*i.key_file));
    if (i.token_ttl.count() <= 0) f.error("issuer.tokenTTL", "must be longer than 0s");
    if (i.key_rotation < i.token_ttl)
        f.error("issuer.keyRotation", fmt::format("must be at least tokenTTL ({})", format_duration(i.token_ttl)));
    f.check("delivery.fileRoot", absolute_path_error(c.delivery.file_root));
    for (std::size_t n = 0; n < c.enforcement.owner_executables.size(); ++n)
        f.check(fmt::format("enforcement.ownerExecutables[{}]", n),
                absolute_path_error(c.enforcement.owner_executables[n]));
    f.check("control.socket", absolute_path_error(c.control.socket));
    if (c.metrics.listen) f.check("metrics.listen", listen_address_error(*c.metrics.listen));
    f.check("policies.dir", absolute_path_error(c.policies_dir));
    return out;
}

}  // namespace credgate::policy
