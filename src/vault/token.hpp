// SPDX-License-Identifier: Apache-2.0
// A Vault token held in memory only. Formatting it never shows the value, so a token passed to a
// log line by mistake prints as "hvs.<redacted>".
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace credgate::vault {

class Token {
public:
    Token() = default;
    explicit Token(std::string value) : value_(std::move(value)) {}
    Token(const Token&) = default;
    Token(Token&&) noexcept = default;
    Token& operator=(const Token&) = default;
    Token& operator=(Token&&) noexcept = default;
    ~Token();

    bool empty() const noexcept { return value_.empty(); }
    // The value, for the X-Vault-Token header only.
    const std::string& reveal() const noexcept { return value_; }
    // The type prefix ("hvs.", "hvb.", "s.") followed by "<redacted>"; never any secret character.
    std::string redacted() const;

    friend bool operator==(const Token& a, const Token& b) noexcept { return a.value_ == b.value_; }

private:
    std::string value_;
};

}  // namespace credgate::vault

template <>
struct fmt::formatter<credgate::vault::Token> : fmt::formatter<std::string_view> {
    template <typename Ctx>
    auto format(const credgate::vault::Token& t, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(t.redacted(), ctx);
    }
};
