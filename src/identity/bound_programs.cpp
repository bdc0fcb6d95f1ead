// SPDX-License-Identifier: Apache-2.0
// replaceable_bound_programs: every process:path value of an identity through identity::replaceable.
#include "identity/bound_programs.hpp"

#include "identity/replaceable.hpp"

#include <fmt/format.h>

namespace credgate::identity {

std::vector<policy::Diagnostic> replaceable_bound_programs(const policy::WorkloadIdentity& identity) {
    std::vector<policy::Diagnostic> out;
    const std::string object = "WorkloadIdentity/" + identity.meta.name;
    for (size_t i = 0; i < identity.selectors.size(); ++i)
        for (const auto& term : identity.selectors[i].terms) {
            if (term.key != policy::SelectorKey::process_path) continue;
            const std::string field = fmt::format("spec.selectors[{}].process:path", i);
            for (const auto& program : term.values) {
                auto risks = replaceable_by_non_root(program);
                if (!risks) {
                    if (risks.error().kind != ErrorKind::not_found)
                        out.push_back({policy::Severity::warning, term.location, object, field,
                                       fmt::format("cannot check whether '{}' can be replaced by a uid other than "
                                                   "root: {}",
                                                   program, risks.error().message)});
                    continue;
                }
                for (const auto& r : *risks)
                    out.push_back({policy::Severity::warning, term.location, object, field,
                                   describe_replace_risk(program, r)});
            }
        }
    return out;
}

}  // namespace credgate::identity
