// SPDX-License-Identifier: Apache-2.0
// The text of `credgatectl status` from credgated's status document: lines on enforcement and
// delivery, one table row per binding, then notes and warnings. Times are shown relative to `now`.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"

#include <string>
#include <string_view>

namespace credgate::cli {

// Fails (ErrorKind::protocol) when `json` is not a status document.
Result<std::string> status_text(std::string_view json, TimePoint now);

}  // namespace credgate::cli
