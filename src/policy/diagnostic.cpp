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
    // One finding is one line: values echoed from a file must not add lines or terminal escapes.
    std::string safe;
    safe.reserve(out.size());
    for (char c : out) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            safe += "\\x";
            safe += kHex[u >> 4];
            safe += kHex[u & 0xf];
        } else {
            safe += c;
        }
    }
    return safe;
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
    for (const auto& d : diagnostics)
        if (d.severity == Severity::error) return true;
    return false;
}

std::string object_ref(std::string_view kind, std::string_view name) {
    if (name.empty()) return std::string(kind);
    return std::string(kind) + "/" + std::string(name);
}

}  // namespace credgate::policy
