// SPDX-License-Identifier: Apache-2.0
// Prometheus text exposition of the daemon's state: build, enforcement mode, issuer key age, audit
// verdicts, bindings by state, refresh counters, last error class and seconds to expiry.
#pragma once

#include "daemon/snapshot.hpp"

#include <string>

namespace credgate::daemon {

std::string render_metrics(const DaemonSnapshot& status, TimePoint now);

}  // namespace credgate::daemon
