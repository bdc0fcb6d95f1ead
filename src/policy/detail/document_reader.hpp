// SPDX-License-Identifier: Apache-2.0
// Inside src/policy only: the text of one policy file into the model, document by document.
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace credgate::policy::detail {

// Appends every object of `text` to `set` and every structural finding to `diags`; a document that
// cannot be read adds no object.
void read_policy_text(std::string_view text, const std::string& file, PolicySet& set, std::vector<Diagnostic>& diags);

}  // namespace credgate::policy::detail
