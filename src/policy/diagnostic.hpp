// SPDX-License-Identifier: Apache-2.0
// A finding about a policy or settings file, located to the YAML node that caused it.
#pragma once

#include "policy/model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace credgate::policy {

enum class Severity { error, warning };

struct Diagnostic {
    Severity severity = Severity::error;
    SourceLocation location;  // file, 1-based line and column (0 when unknown)
    std::string object;       // "Kind/name", e.g. "WorkloadIdentity/ai-agent"; empty for file-level findings
    std::string field;        // dotted path, e.g. "spec.selectors[0].process:name"; empty for the whole object
    std::string message;

    // "FILE:LINE:COL: Kind/name: field: message", with "warning: " before the object for warnings.
    // Parts that are unknown are left out (no ":LINE:COL" when the line is 0).
    std::string to_string() const;
};

bool has_errors(const std::vector<Diagnostic>& diagnostics);

// How a finding names an object: "Kind/name", or "Kind" while it has no name.
std::string object_ref(std::string_view kind, std::string_view name);

}  // namespace credgate::policy
