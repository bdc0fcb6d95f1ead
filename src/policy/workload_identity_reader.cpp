// SPDX-License-Identifier: Apache-2.0
// A WorkloadIdentity's spec from YAML: its workload ID and its selector alternatives, each a mapping
// of selector keys to a value or a list of values.
#include "policy/detail/kind_readers.hpp"

#include "policy/values.hpp"

#include <algorithm>
#include <map>

namespace credgate::policy::detail {

void read_workload_identity(YamlReader& r, const YAML::Node& spec, WorkloadIdentity& out) {
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

}  // namespace credgate::policy::detail
