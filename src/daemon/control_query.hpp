// SPDX-License-Identifier: Apache-2.0
// The query string of a control request ("pid=42&binding=agent-key"), percent-decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace credgate::daemon {

// The value of the first `name=value` pair, decoded ('+' is a space); nullopt when absent or when
// its value is not valid percent-encoding.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace credgate::daemon
