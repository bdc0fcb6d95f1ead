// SPDX-License-Identifier: Apache-2.0
// Plain text tables for credgatectl: columns padded to their widest cell, the last one left ragged.
#pragma once

#include <string>
#include <vector>

namespace credgate::cli {

using TableRow = std::vector<std::string>;

// The header row first; every line indented by `indent` spaces and ended with a newline.
std::string render_table(const std::vector<TableRow>& rows, size_t indent = 0);

}  // namespace credgate::cli
