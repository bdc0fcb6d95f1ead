// SPDX-License-Identifier: Apache-2.0
// The agent settings file (credgate.yaml) from YAML: one document of known sections, each checked for
// structure and spelling; the value rules live in validate.cpp.
#include "policy/detail/settings_reader.hpp"

#include "policy/detail/yaml_reader.hpp"
#include "policy/values.hpp"

namespace credgate::policy::detail {
namespace {

void read_agent_config(YamlReader& r, const YAML::Node& doc, AgentConfig& c) {
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
        if (r.check_map(*n, "enforcement", {"mode", "ownerExecutables"})) {
            r.enum_field(*n, "enforcement", "mode", c.enforcement.mode, &enforcement_mode_from_string,
                         {"enforce", "audit"});
            if (auto v = r.find(*n, "ownerExecutables"))
                if (auto list = r.string_list(*v, "enforcement.ownerExecutables"))
                    c.enforcement.owner_executables = std::move(*list);
        }
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

}  // namespace

bool read_settings_text(std::string_view text, const std::string& file, AgentConfig& config,
                        std::vector<Diagnostic>& diags) {
    auto docs = parse_yaml(text, file, diags);
    if (!docs) return false;
    // A stray '---' adds empty documents; only documents with content count.
    std::erase_if(*docs, [](const YAML::Node& d) { return d.IsNull(); });
    if (docs->size() > 1) {
        diags.push_back(Diagnostic{Severity::error, SourceLocation{file, 0, 0}, "", "",
                                   fmt::format("the settings file must hold exactly one YAML document, not {} "
                                               "(is this a policy file?)",
                                               docs->size())});
        return false;
    }
    YamlReader r(file, diags);
    try {
        read_agent_config(r, docs->empty() ? YAML::Node() : docs->front(), config);
        return true;
    } catch (const YAML::Exception& e) {  // not expected after a successful parse
        diags.push_back(Diagnostic{Severity::error, SourceLocation{file, 0, 0}, "", "",
                                   fmt::format("cannot read the settings: {}", e.msg)});
        return false;
    }
}

}  // namespace credgate::policy::detail
