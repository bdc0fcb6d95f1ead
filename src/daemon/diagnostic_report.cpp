// SPDX-License-Identifier: Apache-2.0
// report_diagnostics: one log line per finding, at its severity, mirrored into a reload's outcome.
#include "daemon/diagnostic_report.hpp"

#include "common/log.hpp"

namespace credgate::daemon {

void report_diagnostics(const std::vector<policy::Diagnostic>& diagnostics, ReloadOutcome* outcome) {
    for (const auto& d : diagnostics) {
        const bool error = d.severity == policy::Severity::error;
        std::string text = d.to_string();
        log::write(error ? log::Level::error : log::Level::warning, "daemon", text);
        if (outcome) (error ? outcome->errors : outcome->warnings).push_back(std::move(text));
    }
}

}  // namespace credgate::daemon
