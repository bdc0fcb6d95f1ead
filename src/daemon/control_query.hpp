// SPDX-License-Identifier: Apache-2.0
// The query string of a control request ("pid=42&binding=agent-key"), percent-decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::daemon {

// One `name=value` pair, as written in the query; `value` is decoded ('+' is a space), nullopt when
// it is not valid percent-encoding ("name" alone has the value "").
struct QueryParam {
    std::string_view name;
    std::optional<std::string> value;
};

// Every pair of `query` in order; empty pairs ("a=1&&b=2", a trailing '&') are skipped.
std::vector<QueryParam> query_params(std::string_view query);

}  // namespace credgate::daemon
