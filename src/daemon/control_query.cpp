// SPDX-License-Identifier: Apache-2.0
// Query parameters of control requests: split on '&', then '=', then percent-decoded.
#include "daemon/control_query.hpp"

#include <charconv>

namespace credgate::daemon {
namespace {

std::optional<std::string> decode(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] != '%') {
            out += text[i];
        } else {
            unsigned value = 0;
            if (i + 2 >= text.size()) return std::nullopt;
            auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
            if (ec != std::errc{} || end != text.data() + i + 3) return std::nullopt;
            out += static_cast<char>(value);
            i += 2;
        }
    }
    return out;
}

}  // namespace

std::vector<QueryParam> query_params(std::string_view query) {
    std::vector<QueryParam> params;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        const std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        params.push_back({pair.substr(0, eq), decode(value)});
    }
    return params;
}

}  // namespace credgate::daemon
