// SPDX-License-Identifier: Apache-2.0
// Semantic validation of the plain-data model: required fields, value rules, selector strength,
// uniqueness and cross-references. The loader runs it; code that builds a model can too.
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace credgate::policy {

// Errors and warnings; locations come from the objects' field_locations when they were loaded.
std::vector<Diagnostic> validate_policy_set(const PolicySet& set, const std::optional<std::string>& trust_domain);
std::vector<Diagnostic> validate_agent_config(const AgentConfig& config);

}  // namespace credgate::policy
