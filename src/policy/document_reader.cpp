// SPDX-License-Identifier: Apache-2.0
// Policy documents from YAML: apiVersion, kind and metadata checked, then the spec handed to its
// kind's reader.
#include "policy/detail/document_reader.hpp"

#include "policy/detail/kind_readers.hpp"
#include "policy/detail/yaml_reader.hpp"
#include "policy/seed_import.hpp"

#include <algorithm>
#include <iterator>

namespace credgate::policy::detail {
namespace {

constexpr std::string_view kKinds[] = {"WorkloadIdentity", "CredentialSource", "CredentialBinding", "Service"};

void read_meta(YamlReader& r, const YAML::Node& doc, ObjectMeta& meta) {
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
void read_object(YamlReader& r, const YAML::Node& doc, const std::string& kind, std::vector<T>& into,
                 void (*read_spec)(YamlReader&, const YAML::Node&, T&)) {
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

void read_document(YamlReader& r, const YAML::Node& doc, PolicySet& set) {
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
    if (kind == "WorkloadIdentity") read_object(r, doc, kind, set.identities, &read_workload_identity);
    else if (kind == "CredentialSource") read_object(r, doc, kind, set.sources, &read_credential_source);
    else if (kind == "CredentialBinding") read_object(r, doc, kind, set.bindings, &read_credential_binding);
    else if (kind == "Service") read_object(r, doc, kind, set.services, &read_service);
}

}  // namespace

void read_policy_text(std::string_view text, const std::string& file, PolicySet& set, std::vector<Diagnostic>& diags) {
    auto docs = parse_yaml(text, file, diags);
    if (!docs) return;
    YamlReader r(file, diags);
    for (const auto& doc : *docs) {
        try {
            read_document(r, doc, set);
        } catch (const YAML::Exception& e) {  // not expected after a successful parse; never let it escape
            r.begin_object("", nullptr);
            r.error(doc, "", fmt::format("cannot read this document: {}", e.msg));
        }
    }
}

}  // namespace credgate::policy::detail
