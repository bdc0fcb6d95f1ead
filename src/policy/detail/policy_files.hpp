// SPDX-License-Identifier: Apache-2.0
// Inside src/policy only: the files the loader reads, found on disk and read under the size limit.
#pragma once

#include "policy/diagnostic.hpp"

#include <optional>
#include <string>
#include <vector>

namespace credgate::policy::detail {

// The files `paths` name, in load order: a file as given, a directory as every "*.yaml"/"*.yml"
// regular file directly in it, sorted by name. A path that cannot be read is an error in `diags`; a
// directory without such files is a warning.
std::vector<std::string> policy_files(const std::vector<std::string>& paths, std::vector<Diagnostic>& diags);

// The whole text of `path`, or nothing with the reason in `diags` (also when it is larger than
// kMaxPolicyFileBytes).
std::optional<std::string> read_policy_file(const std::string& path, std::vector<Diagnostic>& diags);

}  // namespace credgate::policy::detail
