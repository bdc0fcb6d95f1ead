// SPDX-License-Identifier: Apache-2.0
// Loads credgate.yaml and policy files into the plain-data model, all or nothing: a complete,
// validated value, or every error found (each one located as FILE:LINE:COL).
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/model.hpp"

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::policy {

inline constexpr const char* kDefaultConfigPath = "/etc/credgate/credgate.yaml";
// Files larger than this are refused before parsing.
inline constexpr std::size_t kMaxPolicyFileBytes = 4 * 1024 * 1024;

template <typename T>
struct Loaded {
    T value;
    std::vector<Diagnostic> warnings;  // severity == warning; print them, they do not fail the load
    std::vector<std::string> files;    // every file read, in load order
};

// On failure: every error, plus the warnings found on the way, in file and line order.
template <typename T>
using LoadResult = std::expected<Loaded<T>, std::vector<Diagnostic>>;

// The agent settings file (see policies/README.md for every field and default).
LoadResult<AgentConfig> load_agent_config(const std::string& path);
LoadResult<AgentConfig> load_agent_config_from_string(std::string_view yaml, const std::string& file_name);

// Policy files or directories (a directory contributes every "*.yaml"/"*.yml" regular file directly
// in it, sorted by name). With no trust domain, workload IDs are checked as SPIFFE paths only.
LoadResult<PolicySet> load_policies(const std::vector<std::string>& paths,
                                    const std::optional<std::string>& trust_domain);
LoadResult<PolicySet> load_policies_from_string(std::string_view yaml, const std::string& file_name,
                                                const std::optional<std::string>& trust_domain);

}  // namespace credgate::policy
