// SPDX-License-Identifier: Apache-2.0
// Prometheus text exposition of the daemon's state: bindings by state, refresh counters, last
// error class, seconds to expiry and the enforcement mode.
#pragma once

#include "daemon/snapshot.hpp"

#include <string>

namespace credgate::daemon {

std::string render_metrics(const DaemonSnapshot& status, TimePoint now);

}  // namespace credgate::daemon
