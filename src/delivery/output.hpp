// SPDX-License-Identifier: Apache-2.0
// Renders a secret's data into the bytes of the credential file, per the binding's output format.
#pragma once

#include "common/result.hpp"
#include "policy/model.hpp"

#include <map>
#include <string>
#include <string_view>

namespace credgate::delivery {

// json: data_json as given (compact, KV v2 already unwrapped), plus a trailing newline.
// raw:  the value of the string field `output.field`, exactly, with no newline added.
// env:  "KEY=value\n" per top-level string field, in key order, values verbatim (dotenv and
//       systemd EnvironmentFile style, not shell-quoted); a key that is not an environment
//       variable name or a value with a line break or NUL is an error, not silently mangled.
Result<std::string> render(const policy::BindingOutput& output, std::string_view data_json,
                           const std::map<std::string, std::string>& string_fields);

}  // namespace credgate::delivery
