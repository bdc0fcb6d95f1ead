// SPDX-License-Identifier: Apache-2.0
// Instants and spans as people read them: RFC 3339 (UTC, whole seconds) for logs and status
// documents, "12s ago" for tables.
#pragma once

#include "common/clock.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace credgate {

// "2024-05-01T12:00:00Z".
std::string rfc3339(TimePoint t);
// The inverse of rfc3339 (a trailing "Z" only); nothing for anything else.
std::optional<TimePoint> parse_rfc3339(std::string_view text);
// A short span: "12s", "4m05s", "3h07m", "2d04h".
std::string short_duration(Duration d);
// "12s ago" for a past instant ("just now" under a second), "in 12s" for a future one.
std::string relative_to(TimePoint t, TimePoint now);

}  // namespace credgate
