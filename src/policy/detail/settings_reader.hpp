// SPDX-License-Identifier: Apache-2.0
// Inside src/policy only: the text of the agent settings file (credgate.yaml) into the model.
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace credgate::policy::detail {

// Fills `config` from `text`, adding every structural finding to `diags`. True when the document was
// read (possibly with findings), so that the value rules can run on the parts that did read; false
// when the text is not one YAML document.
bool read_settings_text(std::string_view text, const std::string& file, AgentConfig& config,
                        std::vector<Diagnostic>& diags);

}  // namespace credgate::policy::detail
