// SPDX-License-Identifier: Apache-2.0
// core.riptides.io/v1alpha1 to credgate.io/v1alpha1 over yaml-cpp: the fields that mean the same are
// copied as written, every other one is dropped with a note saying why and what credgate does instead.
#include "policy/seed_import.hpp"

#include "policy/detail/yaml_reader.hpp"
#include "policy/loader.hpp"
#include "policy/values.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace credgate::policy {
namespace {

// ---- plain copies of YAML values ----------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The scalar grammar of JSON numbers: what a YAML core-schema reader takes for an integer or a
// float and can be written back without changing its value.
std::size_t json_integer_length(std::string_view s) {
    std::size_t i = s.starts_with('-') ? 1 : 0;
    if (i == s.size() || !is_digit(s[i])) return 0;
    if (s[i] == '0') return i + 1;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i;
}

SeedValue::ScalarType plain_scalar_type(std::string_view s) {
    using T = SeedValue::ScalarType;
    for (std::string_view b : {"true", "True", "TRUE", "false", "False", "FALSE"})
        if (s == b) return T::boolean;
    std::size_t i = json_integer_length(s);
    if (i == 0) return T::text;
    if (i == s.size()) return T::integer;
    bool fraction = false;
    if (s[i] == '.') {
        std::size_t digits = 0;
        for (++i; i < s.size() && is_digit(s[i]); ++i) ++digits;
        if (digits == 0) return T::text;
        fraction = true;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        std::size_t digits = 0;
        for (; i < s.size() && is_digit(s[i]); ++i) ++digits;
        if (digits == 0) return T::text;
        fraction = true;
    }
    return i == s.size() && fraction ? T::number : T::text;
}

SeedValue copy(const YAML::Node& n) {
    SeedValue v;
    if (n.IsScalar()) {
        v.type = SeedValue::Type::scalar;
        v.scalar = n.Scalar();
        // yaml-cpp tags a plain scalar "?" and a quoted or block one "!".
        v.scalar_type = n.Tag() == "?" ? plain_scalar_type(v.scalar) : SeedValue::ScalarType::text;
    } else if (n.IsSequence()) {
        v.type = SeedValue::Type::sequence;
        for (const auto& item : n) v.items.push_back(copy(item));
    } else if (n.IsMap()) {
        v.type = SeedValue::Type::mapping;
        for (auto it = n.begin(); it != n.end(); ++it)
            v.members.emplace_back(it->first.IsScalar() ? it->first.Scalar() : std::string("?"), copy(it->second));
    }
    return v;
}

SeedValue mapping() {
    SeedValue v;
    v.type = SeedValue::Type::mapping;
    return v;
}

SeedValue text(std::string s) {
    SeedValue v;
    v.type = SeedValue::Type::scalar;
    v.scalar = std::move(s);
    return v;
}

// The value of `key` in a mapping, if present (no insertion, unlike operator[]).
std::optional<YAML::Node> find(const YAML::Node& map, std::string_view key) {
    if (!map.IsMap()) return std::nullopt;
    for (auto it = map.begin(); it != map.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    return std::nullopt;
}

std::optional<std::string> scalar_at(const YAML::Node& map, std::string_view key) {
    auto v = find(map, key);
    if (!v || !v->IsScalar()) return std::nullopt;
    return v->Scalar();
}

std::string describe(const YAML::Node& n) {
    if (n.IsNull()) return "nothing (null)";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    return "a single value";
}

std::string child(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

// ---- one document -------------------------------------------------------------------------

class Converter {
public:
    Converter(std::string file, ConvertedObject& obj) : file_(std::move(file)), obj_(obj) {}

    SourceLocation loc(const YAML::Node& n) const {
        YAML::Mark m = n.Mark();
        if (m.is_null()) return {file_, 0, 0};
        return {file_, m.line + 1, m.column + 1};
    }

    void note(NoteKind kind, const YAML::Node& at, std::string field, std::string message) {
        Severity severity = kind == NoteKind::attention ? Severity::error : Severity::warning;
        obj_.notes.push_back(
            ConversionNote{kind, Diagnostic{severity, loc(at), obj_.object, std::move(field), std::move(message)}});
    }

private:
    std::string file_;
    ConvertedObject& obj_;
};

// Converts one field of a mapping into `out` (the converted mapping). The key node locates notes.
using FieldHandler = void (*)(Converter& c, const YAML::Node& key, const YAML::Node& value, const std::string& field,
                              SeedValue& out);

struct FieldRule {
    std::string_view key;
    FieldHandler handle = nullptr;  // nullptr: the field means the same in credgate; copied as written
};

// Applies `rules` to every member of `map`; a member no rule names has no credgate equivalent and is
// dropped with a warning (`why` adds what credgate does instead). Returns the converted mapping.
SeedValue convert_fields(Converter& c, const YAML::Node& map, const std::string& path,
                         std::initializer_list<FieldRule> rules, std::string_view why = "") {
    SeedValue out = mapping();
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (!it->first.IsScalar()) {
            c.note(NoteKind::dropped, it->first, path, "a key that is not a plain string was dropped");
            continue;
        }
        const std::string& key = it->first.Scalar();
        const std::string field = child(path, key);
        const FieldRule* rule = nullptr;
        for (const auto& r : rules)
            if (r.key == key) rule = &r;
        if (rule == nullptr)
            c.note(NoteKind::dropped, it->first, field,
                   fmt::format("'{}' has no credgate equivalent and was dropped{}", key, why));
        else if (rule->handle == nullptr)
            out.members.emplace_back(key, copy(it->second));
        else
            rule->handle(c, it->first, it->second, field, out);
    }
    return out;
}

// Converts a mapping field with `rules`, or copies a field that is not a mapping as written (so
// `credgatectl validate` reports it against credgate's rules).
SeedValue convert_section(Converter& c, const YAML::Node& value, const std::string& field,
                          std::initializer_list<FieldRule> rules, std::string_view why = "") {
    if (!value.IsMap()) return copy(value);
    return convert_fields(c, value, field, rules, why);
}

// ---- metadata and the document ------------------------------------------------------------

void namespace_field(Converter& c, const YAML::Node& key, const YAML::Node& value, const std::string& field,
                     SeedValue&) {
    c.note(NoteKind::changed, key, field,
           fmt::format("namespace {}dropped: credgate has no namespaces; a name must be unique per kind among all "
                       "the policy files credgated loads",
                       value.IsScalar() ? fmt::format("'{}' ", value.Scalar()) : std::string()));
}

void metadata_field(Converter& c, const YAML::Node&, const YAML::Node& value, const std::string& field,
                    SeedValue& out) {
    out.members.emplace_back("metadata", convert_section(c, value, field,
                                                         {{"name"}, {"labels"}, {"namespace", &namespace_field}}));
}

void api_version_field(Converter& c, const YAML::Node& key, const YAML::Node&, const std::string& field,
                       SeedValue& out) {
    out.members.emplace_back("apiVersion", text(kApiVersion));
    c.note(NoteKind::changed, key, field, fmt::format("was {}", kSeedApiVersion));
}

void status_field(Converter& c, const YAML::Node& key, const YAML::Node&, const std::string& field, SeedValue&) {
    c.note(NoteKind::changed, key, field,
           "status dropped: credgated reports each binding's state itself ('credgatectl status', "
           "'credgatectl get binding NAME')");
}

// ---- WorkloadIdentity ---------------------------------------------------------------------

void scope_field(Converter& c, const YAML::Node& key, const YAML::Node& value, const std::string& field,
                 SeedValue&) {
    // core.riptides.io names one agent (later: daemon) or a group of them; either is "which nodes".
    constexpr std::string_view kOne[] = {"agent", "daemon"};
    constexpr std::string_view kGroup[] = {"agentGroup", "daemonGroup"};
    const std::string instead =
        "credgate has no scope field: the credgated that loads this file serves the identity on its own node "
        "(named by 'node' in credgate.yaml, the host name by default), so install this file on";
    for (auto which : kOne)
        if (auto n = find(value, which))
            if (auto id = scalar_at(*n, "id")) {
                c.note(NoteKind::changed, *find(*n, "id"), fmt::format("{}.{}.id", field, which),
                       fmt::format("{}.id '{}' dropped: the scope is now this node. {} the node of {} '{}'", which,
                                   *id, instead, which, *id));
                return;
            }
    for (auto which : kGroup)
        if (auto n = find(value, which))
            if (auto id = scalar_at(*n, "id")) {
                c.note(NoteKind::changed, *find(*n, "id"), fmt::format("{}.{}.id", field, which),
                       fmt::format("{}.id '{}' dropped: the scope is now this node. {} every node of group '{}'",
                                   which, *id, instead, *id));
                return;
            }
    c.note(NoteKind::changed, key, field,
           fmt::format("scope dropped: the scope is now this node. {} the nodes it named", instead));
}

void svid_field(Converter& c, const YAML::Node& key, const YAML::Node&, const std::string& field, SeedValue&) {
    c.note(NoteKind::dropped, key, field,
           "svid has no credgate equivalent and was dropped: credgate issues JWT-SVIDs only, to log in to "
           "Vault/OpenBao, and their lifetime is issuer.tokenTTL in credgate.yaml");
}

// One alternative: credgate's keys are copied; other keys are dropped, which widens the alternative.
SeedValue selector_alternative(Converter& c, const YAML::Node& alt, const std::string& field) {
    SeedValue out = mapping();
    bool strong = false;
    for (auto it = alt.begin(); it != alt.end(); ++it) {
        const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
        const std::string term = child(field, name);
        auto key = selector_key_from_string(name);
        if (!key) {
            c.note(NoteKind::attention, it->first, term,
                   fmt::format("selector key '{}' has no credgate equivalent and was dropped, so this alternative "
                               "now matches more processes than it did; name the same processes with: {}",
                               name, strong_selector_key_list()));
            continue;
        }
        strong = strong || is_strong(*key);
        out.members.emplace_back(name, copy(it->second));
        // A value the vendor accepted may break a credgate rule (e.g. process:name is the kernel's comm).
        // A copy of the node (a handle): yaml-cpp's it->second lives in a proxy that dies with the
        // full expression, so a range-for over it would iterate a destroyed node.
        const YAML::Node value = it->second;
        std::vector<YAML::Node> values;
        if (value.IsScalar()) values.push_back(value);
        if (value.IsSequence())
            for (const auto& v : value)
                if (v.IsScalar()) values.push_back(v);
        for (const auto& v : values)
            if (auto e = selector_value_error(*key, v.Scalar())) c.note(NoteKind::attention, v, term, *e);
    }
    if (!strong)
        c.note(NoteKind::attention, alt, field,
               out.members.empty()
                   ? fmt::format("no selector of this alternative has a credgate equivalent, and an empty one would "
                                 "match every process; add strong keys: {}",
                                 strong_selector_key_list())
                   : fmt::format("process:name alone is spoofable: any process can rename itself (prctl(PR_SET_NAME), "
                                 "/proc/self/comm) and get this identity; add at least one strong key to this "
                                 "alternative: {}",
                                 strong_selector_key_list()));
    return out;
}

void selectors_field(Converter& c, const YAML::Node&, const YAML::Node& value, const std::string& field,
                     SeedValue& out) {
    if (!value.IsSequence()) {
        out.members.emplace_back("selectors", copy(value));
        return;
    }
    SeedValue list;
    list.type = SeedValue::Type::sequence;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const YAML::Node alt = value[i];
        std::string f = fmt::format("{}[{}]", field, i);
        list.items.push_back(alt.IsMap() ? selector_alternative(c, alt, f) : copy(alt));
    }
    out.members.emplace_back("selectors", std::move(list));
}

SeedValue identity_spec(Converter& c, const YAML::Node& spec, const std::string& field) {
    return convert_section(c, spec, field,
                           {{"workloadID"},
                            {"selectors", &selectors_field},
                            {"allowWeakSelectors"},
                            {"scope", &scope_field},
                            {"svid", &svid_field}});
}

// ---- CredentialSource ---------------------------------------------------------------------

void vault_field(Converter& c, const YAML::Node&, const YAML::Node& value, const std::string& field,
                 SeedValue& out) {
    out.members.emplace_back("vault", convert_section(c, value, field,
                                                      {{"address"},
                                                       {"caFile"},
                                                       {"namespace"},
                                                       {"jwtAuthMethodPath"},
                                                       {"role"},
                                                       {"path"},
                                                       {"audience"},
                                                       {"method"},
                                                       {"params"}}));
}

SeedValue source_spec(Converter& c, const YAML::Node& spec, const std::string& field) {
    SeedValue out = convert_section(c, spec, field, {{"vault", &vault_field}},
                                    " (credgate reads secrets from Vault/OpenBao only)");
    if (spec.IsMap() && !find(spec, "vault"))
        c.note(NoteKind::attention, spec, field,
               "no vault section: credgate reads secrets from Vault/OpenBao only (spec.vault); rewrite this source "
               "for Vault/OpenBao, or remove it and the bindings that name it");
    return out;
}

// ---- CredentialBinding --------------------------------------------------------------------

void injection_field(Converter& c, const YAML::Node& key, const YAML::Node&, const std::string& field, SeedValue&) {
    c.note(NoteKind::dropped, key, field,
           "on-the-wire injection has no credgate equivalent yet and was dropped: credgate delivers the secret as "
           "a file that only this workload can read");
}

void propagation_field(Converter& c, const YAML::Node& key, const YAML::Node& value, const std::string& field,
                       SeedValue& out) {
    if (!value.IsMap()) {
        out.members.emplace_back("propagation", copy(value));
        return;
    }
    SeedValue p = convert_fields(c, value, field, {{"sysfs"}, {"file"}, {"auto"}, {"injection", &injection_field}});
    if (!p.members.empty()) {
        out.members.emplace_back("propagation", std::move(p));
        return;
    }
    // Without propagation credgate still delivers a file: the workload would have to read it.
    c.note(NoteKind::attention, key, field,
           "no delivery credgate has is left, so propagation was dropped and the binding uses the default {auto: {}} "
           "(sysfs where the credgate module is loaded, else a private file system): the workload must read the "
           "file instead; or choose {sysfs: {}} or {file: {}}");
}

SeedValue binding_spec(Converter& c, const YAML::Node& spec, const std::string& field) {
    return convert_section(c, spec, field,
                           {{"workloadID"},
                            {"credentialSource"},
                            {"propagation", &propagation_field},
                            {"output"},
                            {"refresh"}});
}

// ---- Service ------------------------------------------------------------------------------

SeedValue service_spec(Converter& c, const YAML::Node& spec, const std::string& field) {
    return convert_section(c, spec, field, {{"addresses"}, {"labels"}, {"external"}});
}

// ---- kinds --------------------------------------------------------------------------------

template <SeedValue (*Spec)(Converter&, const YAML::Node&, const std::string&)>
void spec_of(Converter& c, const YAML::Node&, const YAML::Node& value, const std::string& field, SeedValue& out) {
    out.members.emplace_back("spec", Spec(c, value, field));
}

struct KindRule {
    std::string_view kind;
    FieldHandler spec;
};

constexpr KindRule kKinds[] = {
    {"WorkloadIdentity", &spec_of<&identity_spec>},
    {"CredentialSource", &spec_of<&source_spec>},
    {"CredentialBinding", &spec_of<&binding_spec>},
    {"Service", &spec_of<&service_spec>},
};

const KindRule* kind_rule(std::string_view kind) {
    for (const auto& k : kKinds)
        if (k.kind == kind) return &k;
    return nullptr;
}

std::string kind_list() {
    std::string out;
    for (const auto& k : kKinds) out += fmt::format("{}{}", out.empty() ? "" : ", ", k.kind);
    return out;
}

// One document: converted, copied (already credgate's), dropped whole (no equivalent), or an error
// when it is not an object at all.
void convert_document(const YAML::Node& doc, const std::string& file, std::vector<ConvertedObject>& out,
                      std::vector<Diagnostic>& errors) {
    if (doc.IsNull()) return;  // an empty document (e.g. a trailing '---')
    SourceLocation where{file, doc.Mark().line + 1, doc.Mark().column + 1};
    auto not_an_object = [&](std::string why) {
        errors.push_back(Diagnostic{Severity::error, where, "", "",
                                    fmt::format("not an object to convert: {}", std::move(why))});
    };
    if (!doc.IsMap()) {
        not_an_object(fmt::format("a document must be a mapping with apiVersion, kind, metadata and spec, got {}",
                                  describe(doc)));
        return;
    }
    auto api = scalar_at(doc, "apiVersion");
    auto kind = scalar_at(doc, "kind");
    if (!api || !kind) {
        not_an_object("the document has no apiVersion or no kind");
        return;
    }
    std::string name;
    if (auto m = find(doc, "metadata"))
        if (auto n = scalar_at(*m, "name")) name = *n;
    ConvertedObject obj;
    obj.object = name.empty() ? *kind : fmt::format("{}/{}", *kind, name);
    obj.location = where;
    Converter c(file, obj);
    const KindRule* rule = kind_rule(*kind);
    if (*api == kApiVersion) {
        obj.document = copy(doc);
        c.note(NoteKind::changed, *find(doc, "apiVersion"), "apiVersion",
               fmt::format("already {}: copied as written", kApiVersion));
    } else if (*api == kSeedApiVersion && rule != nullptr) {
        obj.document = convert_fields(c, doc, "",
                                      {{"apiVersion", &api_version_field},
                                       {"kind"},
                                       {"metadata", &metadata_field},
                                       {"spec", rule->spec},
                                       {"status", &status_field}});
    } else {
        c.note(NoteKind::dropped, doc, "",
               fmt::format("{} {} has no credgate equivalent and was not converted; credgate converts {} of {}",
                           *api, *kind, kind_list(), kSeedApiVersion));
    }
    out.push_back(std::move(obj));
}

std::optional<std::string> read_text(const std::string& path, std::vector<Diagnostic>& errors) {
    auto fail_with = [&](std::string message) {
        errors.push_back(Diagnostic{Severity::error, SourceLocation{path, 0, 0}, "", "", std::move(message)});
        return std::nullopt;
    };
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return fail_with("is a directory; name the files to convert");
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return fail_with(fmt::format("cannot read: {}", ec.message()));
    if (size > kMaxPolicyFileBytes)
        return fail_with(fmt::format("file is {} bytes, larger than the limit of {}", size, kMaxPolicyFileBytes));
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail_with(fmt::format("cannot open: {}", std::strerror(errno)));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return fail_with("read failed");
    return ss.str();
}

}  // namespace

ConversionResult convert_seed_text(std::string_view yaml, const std::string& file_name) {
    std::vector<Diagnostic> errors;
    std::vector<YAML::Node> docs;
    try {
        docs = detail::load_documents(yaml);
    } catch (const YAML::Exception& e) {
        SourceLocation l{file_name, 0, 0};
        if (!e.mark.is_null()) l = {file_name, e.mark.line + 1, e.mark.column + 1};
        errors.push_back(Diagnostic{Severity::error, l, "", "", fmt::format("not YAML: {}", e.msg)});
        return std::unexpected(std::move(errors));
    }
    std::vector<ConvertedObject> out;
    for (const auto& doc : docs) {
        try {
            convert_document(doc, file_name, out, errors);
        } catch (const YAML::Exception& e) {  // not expected after a successful parse; never let it escape
            errors.push_back(Diagnostic{Severity::error, SourceLocation{file_name, 0, 0}, "", "",
                                        fmt::format("cannot read a document: {}", e.msg)});
        }
    }
    if (errors.empty() && out.empty())
        errors.push_back(Diagnostic{Severity::error, SourceLocation{file_name, 0, 0}, "", "",
                                    "holds no YAML document to convert"});
    if (!errors.empty()) return std::unexpected(std::move(errors));
    return out;
}

ConversionResult convert_seed_file(const std::string& path) {
    std::vector<Diagnostic> errors;
    auto text = read_text(path, errors);
    if (!text) return std::unexpected(std::move(errors));
    return convert_seed_text(*text, path);
}

std::string api_version_hint(std::string_view api_version) {
    if (api_version != kSeedApiVersion) return "";
    return "; run 'credgatectl convert FILE' to convert it";
}

}  // namespace credgate::policy
