// SPDX-License-Identifier: Apache-2.0
// Redaction and wiping of in-memory Vault tokens.
#include "vault/token.hpp"

#include <algorithm>

namespace credgate::vault {

Token::~Token() {
    // Best effort: overwrite the bytes before the allocator reuses them.
    volatile char* p = value_.data();
    for (size_t i = 0; i < value_.size(); ++i) p[i] = 0;
}

std::string Token::redacted() const {
    if (value_.empty()) return "<none>";
    // Vault prefixes are short ("hvs.", "hvb.", "s.", "b."); anything longer is not a known prefix.
    const auto dot = value_.find('.');
    if (dot != std::string::npos && dot > 0 && dot <= 3 &&
        std::all_of(value_.begin(), value_.begin() + static_cast<std::ptrdiff_t>(dot),
                    [](char c) { return c >= 'a' && c <= 'z'; }))
        return value_.substr(0, dot + 1) + "<redacted>";
    return "<redacted>";
}

}  // namespace credgate::vault
