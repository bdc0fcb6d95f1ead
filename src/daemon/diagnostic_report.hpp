// SPDX-License-Identifier: Apache-2.0
// How credgated reports the findings of loading its settings or policies: each one logged once, at
// its severity, and listed in a reload's outcome when there is one.
#pragma once

#include "daemon/snapshot.hpp"
#include "policy/diagnostic.hpp"

#include <vector>

namespace credgate::daemon {

// Logs every diagnostic ("FILE:LINE:COL: Kind/name: field: message") at its severity; with an
// outcome, also adds its text to the outcome's errors or warnings.
void report_diagnostics(const std::vector<policy::Diagnostic>& diagnostics, ReloadOutcome* outcome = nullptr);

}  // namespace credgate::daemon
