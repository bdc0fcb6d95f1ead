// SPDX-License-Identifier: Apache-2.0
// A CredentialBinding's spec from YAML: identity and source names, the delivery backend
// (`propagation`), the output file and the refresh timing.
#include "policy/detail/kind_readers.hpp"

#include "policy/values.hpp"

namespace credgate::policy::detail {
namespace {

void read_propagation(YamlReader& r, const YAML::Node& n, DeliveryBackend& out) {
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
    const YAML::Node opts = it->second;  // a copy: it-> yields a proxy that dies with this statement
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

}  // namespace

void read_credential_binding(YamlReader& r, const YAML::Node& spec, CredentialBinding& out) {
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

}  // namespace credgate::policy::detail
