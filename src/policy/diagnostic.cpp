// SPDX-License-Identifier: Apache-2.0
// Rendering of diagnostics in the one format every tool prints: FILE:LINE:COL: Kind/name: field: message.
#include "policy/diagnostic.hpp"

namespace credgate::policy {

std::string Diagnostic::to_string() const {
    std::string out = location.file.empty() ? std::string("<input>") : location.file;
    if (location.line > 0) {
        out += ':' + std::to_string(location.line);
        if (location.column > 0) out += ':' + std::to_string(location.column);
    }
    out += ": ";
    if (severity == Severity::warning) out += "warning: ";
    if (!object.empty()) out += object + ": ";
    if (!field.empty()) out += field + ": ";
    out += message;
    return out;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
    for (const auto& d : diagnostics)
        if (d.severity == Severity::error) return true;
    return false;
}

}  // namespace credgate::policy
