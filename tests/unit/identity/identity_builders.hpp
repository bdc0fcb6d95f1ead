// SPDX-License-Identifier: Apache-2.0
// WorkloadIdentity values built in code for the identity tests: the identity "agent" (workload
// ai-agent) with the given selector alternatives.
#pragma once

#include "policy/model.hpp"

#include <string>
#include <utility>
#include <vector>

namespace credgate::identity::test {

inline policy::WorkloadIdentity identity_of(std::vector<std::vector<policy::SelectorTerm>> alternatives) {
    policy::WorkloadIdentity id;
    id.meta.name = "agent";
    id.workload_id = "ai-agent";
    for (auto& terms : alternatives) id.selectors.push_back(policy::SelectorAlternative{std::move(terms), {}});
    return id;
}

inline policy::SelectorTerm term(policy::SelectorKey key, std::vector<std::string> values) {
    return {key, std::move(values), {}};
}

}  // namespace credgate::identity::test
