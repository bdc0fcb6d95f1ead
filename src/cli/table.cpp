// SPDX-License-Identifier: Apache-2.0
// render_table: widths per column, three spaces between columns.
#include "cli/table.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace credgate::cli {

std::string render_table(const std::vector<TableRow>& rows, size_t indent) {
    std::vector<size_t> width;
    for (const auto& r : rows) {
        if (width.size() < r.size()) width.resize(r.size(), 0);
        for (size_t i = 0; i + 1 < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line(indent, ' ');
        for (size_t i = 0; i < r.size(); ++i) line += i + 1 < r.size() ? fmt::format("{:<{}}   ", r[i], width[i]) : r[i];
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

}  // namespace credgate::cli
