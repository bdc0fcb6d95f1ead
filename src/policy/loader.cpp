// SPDX-License-Identifier: Apache-2.0
// YAML to model (with seed_import.cpp, the only files that see yaml-cpp). Checks structure (mappings,
// types, known and unique keys, enum spellings, durations) and records where every value was written;
// the semantic rules live in validate.cpp.
#include "policy/loader.hpp"

#include "policy/seed_import.hpp"
#include "policy/validate.hpp"
#include "policy/values.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <utility>

namespace credgate::policy {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kKinds[] = {"WorkloadIdentity", "CredentialSource", "CredentialBinding", "Service"};

std::string join(std::initializer_list<std::string_view> items) {
    std::string out;
    for (auto i : items) {
        if (!out.empty()) out += ", ";
        out += i;
    }
    return out;
}

std::string object_ref(std::string_view kind, std::string_view name) {
    return name.empty() ? std::string(kind) : fmt::format("{}/{}", kind, name);
}

std::string describe(const YAML::Node& n) {
    if (n.IsNull()) return "nothing (null)";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    if (n.IsScalar()) {
        constexpr std::size_t kMaxEcho = 64;
        const std::string& v = n.Scalar();
        return v.size() <= kMaxEcho ? fmt::format("'{}'", v) : fmt::format("'{}...'", v.substr(0, kMaxEcho));
    }
    return "an undefined value";
}

// Reads one YAML document (or the settings file) into the model, reporting as it goes.
class Reader {
public:
    Reader(std::string file, std::vector<Diagnostic>& diags) : file_(std::move(file)), diags_(diags) {}

    void begin_object(std::string object, FieldLocations* locs) {
        object_ = std::move(object);
        locs_ = locs;
    }

    SourceLocation loc(const YAML::Node& n) const {
        YAML::Mark m = n.Mark();
        // An empty value has no text of its own (its mark is wherever the next token is): point at its key.
        if (n.IsNull())
            for (const auto& [value, key_mark] : null_values_)
                if (value.is(n)) m = key_mark;
        if (m.is_null()) return {file_, 0, 0};
        return {file_, m.line + 1, m.column + 1};
    }

    void error(const YAML::Node& at, const std::string& field, std::string message) {
        diags_.push_back(Diagnostic{Severity::error, loc(at), object_, field, std::move(message)});
    }

    void record(const std::string& field, const YAML::Node& n) {
        if (locs_ != nullptr) (*locs_)[field] = loc(n);
    }

    // A mapping whose keys are all scalars, unique and among `allowed` (empty list: any key).
    // Reports every violation; returns false when `n` is not a mapping at all.
    bool check_map(const YAML::Node& n, const std::string& field, std::initializer_list<std::string_view> allowed) {
        if (!n.IsMap()) {
            error(n, field, fmt::format("must be a mapping, got {}", describe(n)));
            return false;
        }
        record(field, n);
        std::map<std::string, YAML::Node> seen;
        for (auto it = n.begin(); it != n.end(); ++it) {
            const YAML::Node& key = it->first;
            if (!key.IsScalar()) {
                error(key, field, "keys must be plain strings");
                continue;
            }
            const std::string& k = key.Scalar();
            std::string child = field.empty() ? k : field + "." + k;
            if (auto prev = seen.find(k); prev != seen.end()) {
                SourceLocation p = loc(prev->second);
                error(key, child, fmt::format("duplicate key '{}' (first at line {}, column {})", k, p.line, p.column));
                continue;
            }
            seen.emplace(k, key);
            if (allowed.size() > 0 && std::find(allowed.begin(), allowed.end(), k) == allowed.end())
                error(key, child, fmt::format("unknown key '{}' (expected one of: {})", k, join(allowed)));
        }
        return true;
    }

    // The value of `key` in a checked mapping (the first one when duplicated), if present.
    std::optional<YAML::Node> find(const YAML::Node& map, std::string_view key) {
        if (!map.IsMap()) return std::nullopt;
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (!it->first.IsScalar() || it->first.Scalar() != key) continue;
            if (it->second.IsNull()) null_values_.emplace_back(it->second, it->first.Mark());
            return it->second;
        }
        return std::nullopt;
    }

    // An optional mapping section; a key with no value (only comments under it) means "all defaults".
    std::optional<YAML::Node> section(const YAML::Node& map, std::string_view key) {
        auto v = find(map, key);
        if (!v || v->IsNull()) return std::nullopt;
        return v;
    }

    static std::string path(const std::string& parent, std::string_view key) {
        return parent.empty() ? std::string(key) : parent + "." + std::string(key);
    }

    std::optional<std::string> scalar(const YAML::Node& v, const std::string& field) {
        if (v.IsNull()) {
            error(v, field, "has no value");
            return std::nullopt;
        }
        if (!v.IsScalar()) {
            error(v, field, fmt::format("must be a string, got {}", describe(v)));
            return std::nullopt;
        }
        record(field, v);
        return v.Scalar();
    }

    // Optional string field: absent leaves `out` unchanged.
    void string_field(const YAML::Node& map, const std::string& parent, std::string_view key, std::string& out) {
        if (auto v = find(map, key))
            if (auto s = scalar(*v, path(parent, key))) out = *s;
    }
    void string_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                      std::optional<std::string>& out) {
        if (auto v = find(map, key))
            if (auto s = scalar(*v, path(parent, key))) out = *s;
    }

    void bool_field(const YAML::Node& map, const std::string& parent, std::string_view key, bool& out) {
        auto v = find(map, key);
        if (!v) return;
        std::string field = path(parent, key);
        auto s = scalar(*v, field);
        if (!s) return;
        if (*s == "true" || *s == "True" || *s == "TRUE") out = true;
        else if (*s == "false" || *s == "False" || *s == "FALSE") out = false;
        else error(*v, field, fmt::format("must be true or false, got '{}'", *s));
    }

    void duration_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                        std::chrono::seconds& out) {
        auto v = find(map, key);
        if (!v) return;
        std::string field = path(parent, key);
        auto s = scalar(*v, field);
        if (!s) return;
        if (auto d = parse_duration(*s)) out = *d;
        else error(*v, field, fmt::format("'{}' is not a duration: write e.g. 90s, 15m, 1h or 1h30m", *s));
    }

    void number_field(const YAML::Node& map, const std::string& parent, std::string_view key, double& out) {
        auto v = find(map, key);
        if (!v) return;
        std::string field = path(parent, key);
        auto s = scalar(*v, field);
        if (!s) return;
        errno = 0;
        char* end = nullptr;
        double d = std::strtod(s->c_str(), &end);
        if (s->empty() || end != s->c_str() + s->size() || errno != 0 || d != d)
            error(*v, field, fmt::format("must be a number, got '{}'", *s));
        else out = d;
    }

    template <typename E>
    void enum_field(const YAML::Node& map, const std::string& parent, std::string_view key, E& out,
                    std::optional<E> (*parse)(std::string_view), std::initializer_list<std::string_view> names) {
        auto v = find(map, key);
        if (!v) return;
        std::string field = path(parent, key);
        auto s = scalar(*v, field);
        if (!s) return;
        if (auto e = parse(*s)) out = *e;
        else error(*v, field, fmt::format("unknown value '{}' (expected one of: {})", *s, join(names)));
    }

    // A scalar or a list of scalars.
    std::optional<std::vector<std::string>> string_list(const YAML::Node& v, const std::string& field) {
        if (v.IsScalar()) {
            record(field, v);
            return std::vector<std::string>{v.Scalar()};
        }
        if (!v.IsSequence()) {
            error(v, field, fmt::format("must be a string or a list of strings, got {}", describe(v)));
            return std::nullopt;
        }
        record(field, v);
        std::vector<std::string> out;
        bool ok = true;
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::string item = fmt::format("{}[{}]", field, i);
            if (v[i].IsScalar()) {
                record(item, v[i]);
                out.push_back(v[i].Scalar());
            } else {
                error(v[i], item, fmt::format("must be a string, got {}", describe(v[i])));
                ok = false;
            }
        }
        if (!ok) return std::nullopt;
        return out;
    }

    void string_map(const YAML::Node& v, const std::string& field, std::map<std::string, std::string>& out) {
        if (v.IsNull()) return;
        if (!check_map(v, field, {})) return;
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (!it->first.IsScalar()) continue;
            std::string item = path(field, it->first.Scalar());
            if (auto s = scalar(it->second, item)) out.emplace(it->first.Scalar(), *s);
        }
    }

    const std::string& file() const { return file_; }

private:
    std::string file_;
    std::vector<Diagnostic>& diags_;
    std::string object_;
    FieldLocations* locs_ = nullptr;
    std::vector<std::pair<YAML::Node, YAML::Mark>> null_values_;  // empty values met by find(), with their key's mark
};

// ---- policy kinds -------------------------------------------------------------------------

void read_identity(Reader& r, const YAML::Node& spec, WorkloadIdentity& out) {
    if (!r.check_map(spec, "spec", {"workloadID", "selectors", "allowWeakSelectors"})) return;
    r.string_field(spec, "spec", "workloadID", out.workload_id);
    r.bool_field(spec, "spec", "allowWeakSelectors", out.allow_weak_selectors);
    auto sel = r.find(spec, "selectors");
    if (!sel) return;
    if (!sel->IsSequence()) {
        r.error(*sel, "spec.selectors", fmt::format("must be a list of selector alternatives, got {}", describe(*sel)));
        return;
    }
    r.record("spec.selectors", *sel);
    for (std::size_t i = 0; i < sel->size(); ++i) {
        const YAML::Node alt = (*sel)[i];
        std::string field = fmt::format("spec.selectors[{}]", i);
        SelectorAlternative a;
        a.location = r.loc(alt);
        if (!r.check_map(alt, field, {})) continue;
        std::map<std::string, bool> seen;
        for (auto it = alt.begin(); it != alt.end(); ++it) {
            if (!it->first.IsScalar()) continue;
            const std::string& name = it->first.Scalar();
            std::string term_field = field + "." + name;
            if (seen.count(name) > 0) continue;  // reported by check_map
            seen[name] = true;
            auto key = selector_key_from_string(name);
            if (!key) {
                r.error(it->first, term_field,
                        fmt::format("unknown selector key '{}' (expected one of: {})", name, selector_key_list()));
                continue;
            }
            if (it->second.IsNull()) {
                r.error(it->second, term_field, "has no value; give a value or a list of values");
                continue;
            }
            auto values = r.string_list(it->second, term_field);
            if (!values) continue;
            SelectorTerm t{*key, std::move(*values), r.loc(it->first)};
            if (*key == SelectorKey::process_sha256)
                for (auto& v : t.values)
                    std::transform(v.begin(), v.end(), v.begin(),
                                   [](char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c + 32) : c; });
            a.terms.push_back(std::move(t));
        }
        out.selectors.push_back(std::move(a));
    }
}

void read_source(Reader& r, const YAML::Node& spec, CredentialSource& out) {
    if (!r.check_map(spec, "spec", {"vault"})) return;
    auto vault = r.find(spec, "vault");
    if (!vault) {
        r.error(spec, "spec.vault", "is required (the only provider so far)");
        return;
    }
    const std::string f = "spec.vault";
    if (!r.check_map(*vault, f,
                     {"address", "caFile", "namespace", "jwtAuthMethodPath", "role", "path", "audience", "method",
                      "params"}))
        return;
    VaultSource& v = out.vault;
    r.string_field(*vault, f, "address", v.address);
    r.string_field(*vault, f, "caFile", v.ca_file);
    r.string_field(*vault, f, "namespace", v.namespace_);
    r.string_field(*vault, f, "jwtAuthMethodPath", v.jwt_auth_method_path);
    r.string_field(*vault, f, "role", v.role);
    r.string_field(*vault, f, "path", v.path);
    r.string_field(*vault, f, "method", v.method);
    if (auto aud = r.find(*vault, "audience")) {
        if (aud->IsNull()) r.error(*aud, f + ".audience", "has no value");
        else if (auto list = r.string_list(*aud, f + ".audience")) v.audience = std::move(*list);
    }
    if (auto params = r.find(*vault, "params")) r.string_map(*params, f + ".params", v.params);
}

void read_propagation(Reader& r, const YAML::Node& n, DeliveryBackend& out) {
    const std::string f = "spec.propagation";
    if (!r.check_map(n, f, {"sysfs", "file", "auto"})) return;
    if (n.size() != 1) {
        r.error(n, f, "must name exactly one of sysfs, file or auto, e.g. {sysfs: {}}");
        return;
    }
    auto it = n.begin();
    if (!it->first.IsScalar()) return;
    const std::string& k = it->first.Scalar();
    if (k == "sysfs") out = DeliveryBackend::sysfs;
    else if (k == "file") out = DeliveryBackend::file;
    else if (k == "auto") out = DeliveryBackend::auto_select;
    else return;  // reported by check_map
    // No backend takes options yet; `{}` (or nothing) is the only valid value.
    const YAML::Node& opts = it->second;
    const std::string of = f + "." + k;
    if (opts.IsNull()) return;
    if (!opts.IsMap()) {
        r.error(opts, of, fmt::format("must be an empty mapping ({{}}), got {}", describe(opts)));
        return;
    }
    for (auto o = opts.begin(); o != opts.end(); ++o) {
        std::string name = o->first.IsScalar() ? o->first.Scalar() : std::string("?");
        r.error(o->first, of + "." + name, fmt::format("unknown key '{}' ({} takes no options)", name, k));
    }
}

void read_binding(Reader& r, const YAML::Node& spec, CredentialBinding& out) {
    if (!r.check_map(spec, "spec", {"workloadID", "credentialSource", "propagation", "output", "refresh"})) return;
    r.string_field(spec, "spec", "workloadID", out.workload_id);
    r.string_field(spec, "spec", "credentialSource", out.credential_source);
    if (auto p = r.section(spec, "propagation")) read_propagation(r, *p, out.propagation);
    bool file_given = false;
    if (auto o = r.section(spec, "output")) {
        const std::string f = "spec.output";
        if (r.check_map(*o, f, {"file", "format", "field"})) {
            if (r.find(*o, "file")) file_given = true;
            r.string_field(*o, f, "file", out.output.file_name);
            r.enum_field(*o, f, "format", out.output.format, &output_format_from_string, {"json", "raw", "env"});
            r.string_field(*o, f, "field", out.output.field);
        }
    }
    if (!file_given) {
        switch (out.output.format) {
            case OutputFormat::json: out.output.file_name = "vault.json"; break;
            case OutputFormat::env: out.output.file_name = "vault.env"; break;
            case OutputFormat::raw: out.output.file_name = "vault.txt"; break;
        }
    }
    if (auto rf = r.section(spec, "refresh")) {
        const std::string f = "spec.refresh";
        if (r.check_map(*rf, f, {"leaseFractionMin", "leaseFractionMax", "minLead", "staticInterval", "revokeGrace"})) {
            r.number_field(*rf, f, "leaseFractionMin", out.refresh.lease_fraction_min);
            r.number_field(*rf, f, "leaseFractionMax", out.refresh.lease_fraction_max);
            r.duration_field(*rf, f, "minLead", out.refresh.min_lead);
            r.duration_field(*rf, f, "staticInterval", out.refresh.static_interval);
            r.duration_field(*rf, f, "revokeGrace", out.refresh.revoke_grace);
        }
    }
}

void read_service(Reader& r, const YAML::Node& spec, Service& out) {
    if (!r.check_map(spec, "spec", {"addresses", "labels", "external"})) return;
    r.bool_field(spec, "spec", "external", out.external);
    if (auto l = r.find(spec, "labels")) r.string_map(*l, "spec.labels", out.labels);
    auto addrs = r.find(spec, "addresses");
    if (!addrs) return;
    if (!addrs->IsSequence()) {
        r.error(*addrs, "spec.addresses", fmt::format("must be a list of {{address, port}}, got {}", describe(*addrs)));
        return;
    }
    r.record("spec.addresses", *addrs);
    for (std::size_t i = 0; i < addrs->size(); ++i) {
        const YAML::Node a = (*addrs)[i];
        std::string f = fmt::format("spec.addresses[{}]", i);
        if (!r.check_map(a, f, {"address", "port"})) continue;
        ServiceAddress sa;
        r.string_field(a, f, "address", sa.address);
        if (auto p = r.find(a, "port")) {
            if (auto s = r.scalar(*p, f + ".port")) {
                char* end = nullptr;
                errno = 0;
                long n = std::strtol(s->c_str(), &end, 10);
                if (s->empty() || end != s->c_str() + s->size() || errno != 0 || n < 1 || n > 65535)
                    r.error(*p, f + ".port", fmt::format("must be a port number from 1 to 65535, got '{}'", *s));
                else sa.port = static_cast<uint16_t>(n);
            }
        }
        out.addresses.push_back(std::move(sa));
    }
}

void read_meta(Reader& r, const YAML::Node& doc, ObjectMeta& meta) {
    meta.location = r.loc(doc);
    auto m = r.find(doc, "metadata");
    if (!m) {
        r.error(doc, "metadata", "is required (with a name)");
        return;
    }
    if (!r.check_map(*m, "metadata", {"name", "labels"})) return;
    r.string_field(*m, "metadata", "name", meta.name);
    if (auto l = r.find(*m, "labels")) r.string_map(*l, "metadata.labels", meta.labels);
}

template <typename T>
void read_object(Reader& r, const YAML::Node& doc, const std::string& kind, std::vector<T>& into,
                 void (*read_spec)(Reader&, const YAML::Node&, T&)) {
    T obj;
    // Name first, so that every finding about this object says which one it is.
    std::string name;
    if (auto m = r.find(doc, "metadata"))
        if (auto n = r.find(*m, "name"); n && n->IsScalar()) name = n->Scalar();
    r.begin_object(object_ref(kind, name), &obj.meta.field_locations);
    read_meta(r, doc, obj.meta);
    auto spec = r.find(doc, "spec");
    if (!spec) r.error(doc, "spec", "is required");
    else read_spec(r, *spec, obj);
    into.push_back(std::move(obj));
}

void read_document(Reader& r, const YAML::Node& doc, PolicySet& set) {
    if (doc.IsNull()) return;  // an empty document (e.g. a trailing '---')
    r.begin_object("", nullptr);
    if (!doc.IsMap()) {
        r.error(doc, "", fmt::format("a policy document must be a mapping with apiVersion, kind, metadata and spec, "
                                     "got {}", describe(doc)));
        return;
    }
    std::string kind;
    if (auto k = r.find(doc, "kind"); k && k->IsScalar()) kind = k->Scalar();
    std::string name;
    if (auto m = r.find(doc, "metadata"))
        if (auto n = r.find(*m, "name"); n && n->IsScalar()) name = n->Scalar();
    bool known_kind = std::find(std::begin(kKinds), std::end(kKinds), kind) != std::end(kKinds);
    r.begin_object(known_kind ? object_ref(kind, name) : std::string(), nullptr);
    if (!r.find(doc, "kind") && !r.find(doc, "apiVersion") && r.find(doc, "trustDomain")) {
        r.error(doc, "", "this is the agent settings file (credgate.yaml), not a policy document; "
                         "pass it with --config");
        return;
    }
    r.check_map(doc, "", {"apiVersion", "kind", "metadata", "spec"});

    bool ok = true;
    auto api = r.find(doc, "apiVersion");
    if (!api) {
        r.error(doc, "apiVersion", fmt::format("is required ({})", kApiVersion));
        ok = false;
    } else if (auto s = r.scalar(*api, "apiVersion"); !s) {
        ok = false;
    } else if (*s != kApiVersion) {
        r.error(*api, "apiVersion",
                fmt::format("unsupported apiVersion '{}' (expected {}){}", *s, kApiVersion, api_version_hint(*s)));
        ok = false;
    }
    auto k = r.find(doc, "kind");
    if (!k) {
        r.error(doc, "kind", fmt::format("is required (one of: {})", join({kKinds[0], kKinds[1], kKinds[2], kKinds[3]})));
        return;
    }
    if (!r.scalar(*k, "kind")) return;
    if (!known_kind) {
        r.error(*k, "kind",
                fmt::format("unknown kind '{}' (expected one of: {})", kind,
                            join({kKinds[0], kKinds[1], kKinds[2], kKinds[3]})));
        return;
    }
    if (!ok) return;
    if (kind == "WorkloadIdentity") read_object(r, doc, kind, set.identities, &read_identity);
    else if (kind == "CredentialSource") read_object(r, doc, kind, set.sources, &read_source);
    else if (kind == "CredentialBinding") read_object(r, doc, kind, set.bindings, &read_binding);
    else if (kind == "Service") read_object(r, doc, kind, set.services, &read_service);
}

// ---- agent settings -----------------------------------------------------------------------

void read_agent_config(Reader& r, const YAML::Node& doc, AgentConfig& c) {
    r.begin_object("", &c.field_locations);
    c.location = r.loc(doc);
    if (doc.IsNull()) {
        r.error(doc, "", "the settings file is empty; trustDomain and issuer.url are required");
        return;
    }
    if (r.find(doc, "kind") || r.find(doc, "apiVersion")) {
        r.error(doc, "", "this looks like a policy document (it has apiVersion/kind), not the agent settings file");
        return;
    }
    if (!r.check_map(doc, "",
                     {"trustDomain", "node", "issuer", "delivery", "enforcement", "control", "metrics", "policies",
                      "revokeOnShutdown"}))
        return;
    r.string_field(doc, "", "trustDomain", c.trust_domain);
    r.string_field(doc, "", "node", c.node);
    r.bool_field(doc, "", "revokeOnShutdown", c.revoke_on_shutdown);
    if (auto n = r.section(doc, "issuer")) {
        const std::string f = "issuer";
        if (r.check_map(*n, f,
                        {"url", "listen", "tlsCert", "tlsKey", "algorithm", "tokenTTL", "keyRotation", "keyFile"})) {
            r.string_field(*n, f, "url", c.issuer.url);
            r.string_field(*n, f, "listen", c.issuer.listen);
            r.string_field(*n, f, "tlsCert", c.issuer.tls_cert);
            r.string_field(*n, f, "tlsKey", c.issuer.tls_key);
            r.enum_field(*n, f, "algorithm", c.issuer.algorithm, &signing_algorithm_from_string,
                         {"ES256", "RS256", "EdDSA"});
            r.duration_field(*n, f, "tokenTTL", c.issuer.token_ttl);
            r.duration_field(*n, f, "keyRotation", c.issuer.key_rotation);
            r.string_field(*n, f, "keyFile", c.issuer.key_file);
        }
    }
    if (auto n = r.section(doc, "delivery")) {
        if (r.check_map(*n, "delivery", {"backend", "fileRoot"})) {
            r.enum_field(*n, "delivery", "backend", c.delivery.backend, &delivery_backend_from_string,
                         {"auto", "sysfs", "file"});
            r.string_field(*n, "delivery", "fileRoot", c.delivery.file_root);
        }
    }
    if (auto n = r.section(doc, "enforcement")) {
        if (r.check_map(*n, "enforcement", {"mode"}))
            r.enum_field(*n, "enforcement", "mode", c.enforcement.mode, &enforcement_mode_from_string,
                         {"enforce", "audit"});
    }
    if (auto n = r.section(doc, "control")) {
        if (r.check_map(*n, "control", {"socket"})) r.string_field(*n, "control", "socket", c.control.socket);
    }
    if (auto n = r.section(doc, "metrics")) {
        if (r.check_map(*n, "metrics", {"listen"})) r.string_field(*n, "metrics", "listen", c.metrics.listen);
    }
    if (auto n = r.section(doc, "policies")) {
        if (r.check_map(*n, "policies", {"dir"})) r.string_field(*n, "policies", "dir", c.policies_dir);
    }
}

// ---- files --------------------------------------------------------------------------------

std::optional<std::string> read_file(const std::string& path, std::vector<Diagnostic>& diags) {
    auto file_error = [&](std::string message) {
        diags.push_back(Diagnostic{Severity::error, SourceLocation{path, 0, 0}, "", "", std::move(message)});
    };
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) {
        file_error(fmt::format("cannot read: {}", ec.message()));
        return std::nullopt;
    }
    if (size > kMaxPolicyFileBytes) {
        file_error(fmt::format("file is {} bytes, larger than the limit of {}", size, kMaxPolicyFileBytes));
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        file_error(fmt::format("cannot open: {}", std::strerror(errno)));
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        file_error("read failed");
        return std::nullopt;
    }
    return ss.str();
}

std::optional<std::vector<YAML::Node>> parse_yaml(std::string_view text, const std::string& file,
                                                  std::vector<Diagnostic>& diags) {
    try {
        return YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        SourceLocation l{file, 0, 0};
        if (!e.mark.is_null()) l = {file, e.mark.line + 1, e.mark.column + 1};
        diags.push_back(Diagnostic{Severity::error, l, "", "", fmt::format("YAML syntax error: {}", e.msg)});
        return std::nullopt;
    }
}

bool is_prefix_field(const std::string& prefix, const std::string& field) {
    if (prefix.empty()) return true;
    if (!field.starts_with(prefix)) return false;
    return field.size() == prefix.size() || field[prefix.size()] == '.' || field[prefix.size()] == '[';
}

// Puts structural findings first and drops semantic ones about a field that could not be read (it
// would also look "missing") or about its parent (e.g. an alternative judged without its unreadable
// term), then orders everything by file and position.
std::vector<Diagnostic> merge(std::vector<Diagnostic> structural, std::vector<Diagnostic> semantic,
                              const std::vector<std::string>& files) {
    std::vector<Diagnostic> out = std::move(structural);
    const std::size_t n_structural = out.size();
    for (auto& d : semantic) {
        bool repeated = false;
        for (std::size_t i = 0; i < n_structural && !repeated; ++i)
            repeated = out[i].severity == Severity::error && out[i].object == d.object &&
                       out[i].location.file == d.location.file &&
                       (is_prefix_field(out[i].field, d.field) || is_prefix_field(d.field, out[i].field));
        if (!repeated) out.push_back(std::move(d));
    }
    auto file_rank = [&](const std::string& f) {
        auto it = std::find(files.begin(), files.end(), f);
        return static_cast<std::size_t>(it - files.begin());
    };
    std::stable_sort(out.begin(), out.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        auto ka = std::make_tuple(file_rank(a.location.file), a.location.line, a.location.column);
        auto kb = std::make_tuple(file_rank(b.location.file), b.location.line, b.location.column);
        return ka < kb;
    });
    return out;
}

template <typename T>
LoadResult<T> finish(T value, std::vector<Diagnostic> all, std::vector<std::string> files) {
    if (has_errors(all)) return std::unexpected(std::move(all));
    Loaded<T> loaded{std::move(value), std::move(all), std::move(files)};
    return loaded;
}

void read_policy_text(std::string_view text, const std::string& file, PolicySet& set, std::vector<Diagnostic>& diags) {
    auto docs = parse_yaml(text, file, diags);
    if (!docs) return;
    Reader r(file, diags);
    for (const auto& doc : *docs) {
        try {
            read_document(r, doc, set);
        } catch (const YAML::Exception& e) {  // not expected after a successful parse; never let it escape
            r.begin_object("", nullptr);
            r.error(doc, "", fmt::format("cannot read this document: {}", e.msg));
        }
    }
}

LoadResult<AgentConfig> agent_config_from_text(std::string_view text, const std::string& file) {
    std::vector<Diagnostic> structural;
    AgentConfig config;
    config.location = SourceLocation{file, 0, 0};
    bool read = false;
    auto docs = parse_yaml(text, file, structural);
    if (docs) {
        // A stray '---' adds empty documents; only documents with content count.
        std::erase_if(*docs, [](const YAML::Node& d) { return d.IsNull(); });
        if (docs->size() > 1) {
            structural.push_back(Diagnostic{Severity::error, SourceLocation{file, 0, 0}, "", "",
                                            fmt::format("the settings file must hold exactly one YAML document, not {} "
                                                        "(is this a policy file?)",
                                                        docs->size())});
        } else {
            Reader r(file, structural);
            try {
                read_agent_config(r, docs->empty() ? YAML::Node() : docs->front(), config);
                read = true;
            } catch (const YAML::Exception& e) {  // not expected after a successful parse
                structural.push_back(Diagnostic{Severity::error, SourceLocation{file, 0, 0}, "", "",
                                                fmt::format("cannot read the settings: {}", e.msg)});
            }
        }
    }
    // Value rules run even after structural errors, on the parts that did read; merge() drops repeats.
    std::vector<Diagnostic> semantic;
    if (read) semantic = validate_agent_config(config);
    return finish(std::move(config), merge(std::move(structural), std::move(semantic), {file}), {file});
}

}  // namespace

LoadResult<AgentConfig> load_agent_config(const std::string& path) {
    std::vector<Diagnostic> diags;
    auto text = read_file(path, diags);
    if (!text) return std::unexpected(std::move(diags));
    return agent_config_from_text(*text, path);
}

LoadResult<AgentConfig> load_agent_config_from_string(std::string_view yaml, const std::string& file_name) {
    return agent_config_from_text(yaml, file_name);
}

LoadResult<PolicySet> load_policies(const std::vector<std::string>& paths,
                                    const std::optional<std::string>& trust_domain) {
    std::vector<Diagnostic> structural;
    std::vector<std::string> files;
    for (const auto& p : paths) {
        std::error_code ec;
        auto st = fs::status(p, ec);
        if (ec || !fs::exists(st)) {
            structural.push_back(Diagnostic{Severity::error, SourceLocation{p, 0, 0}, "", "",
                                            fmt::format("cannot read: {}", ec ? ec.message() : "no such file or directory")});
            continue;
        }
        if (!fs::is_directory(st)) {
            files.push_back(p);
            continue;
        }
        std::vector<std::string> in_dir;
        for (auto it = fs::directory_iterator(p, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            auto ext = it->path().extension();
            if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file()) in_dir.push_back(it->path().string());
        }
        if (ec) {
            structural.push_back(Diagnostic{Severity::error, SourceLocation{p, 0, 0}, "", "",
                                            fmt::format("cannot list directory: {}", ec.message())});
            continue;
        }
        std::sort(in_dir.begin(), in_dir.end());
        if (in_dir.empty())
            structural.push_back(Diagnostic{Severity::warning, SourceLocation{p, 0, 0}, "", "",
                                            "directory holds no *.yaml or *.yml files"});
        files.insert(files.end(), in_dir.begin(), in_dir.end());
    }
    PolicySet set;
    for (const auto& f : files)
        if (auto text = read_file(f, structural)) read_policy_text(*text, f, set, structural);
    auto semantic = validate_policy_set(set, trust_domain);
    return finish(std::move(set), merge(std::move(structural), std::move(semantic), files), files);
}

LoadResult<PolicySet> load_policies_from_string(std::string_view yaml, const std::string& file_name,
                                                const std::optional<std::string>& trust_domain) {
    std::vector<Diagnostic> structural;
    PolicySet set;
    read_policy_text(yaml, file_name, set, structural);
    auto semantic = validate_policy_set(set, trust_domain);
    std::vector<std::string> files{file_name};
    return finish(std::move(set), merge(std::move(structural), std::move(semantic), files), files);
}

}  // namespace credgate::policy
