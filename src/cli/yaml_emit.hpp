// SPDX-License-Identifier: Apache-2.0
// Renders a JSON document as block-style YAML (what `kubectl get -o yaml` prints), quoting every
// string a YAML reader would otherwise take for another type.
#pragma once

#include "common/result.hpp"

#include <string>
#include <string_view>

namespace credgate::cli {

Result<std::string> json_to_yaml(std::string_view json);

}  // namespace credgate::cli
