// SPDX-License-Identifier: Apache-2.0
// Prints objects converted from core.riptides.io/v1alpha1 as credgate.io/v1alpha1 YAML, each
// conversion note as a comment above the field it is about (or the nearest field that was kept).
#pragma once

#include "common/result.hpp"
#include "policy/seed_import.hpp"

#include <string>
#include <vector>

namespace credgate::cli {

// Comment lines are wrapped to this width (without the indentation and "# ").
inline constexpr std::size_t kCommentWidth = 96;

// The comment of one note: "NEEDS ATTENTION: spec.selectors[0]: ...", "warning: spec.svid: ..." or,
// for an expected change, "metadata.namespace: ...".
std::string note_comment(const policy::ConversionNote& note);

// One file's objects as YAML documents separated by "---", the first one headed by a comment that
// names `source`. An object dropped whole is a document of comments only.
Result<std::string> render_converted(const std::vector<policy::ConvertedObject>& objects, const std::string& source);

}  // namespace credgate::cli
