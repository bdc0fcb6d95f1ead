// SPDX-License-Identifier: Apache-2.0
// Logging: to journald with structured fields when stderr is journald's stream, else to stderr with
// journald priority prefixes ("<3>" error ... "<7>" debug).
// Never pass a secret, a token or a JWT to these functions; log kid, jti, lease ids and expiry instead.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace credgate::log {

enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// A field journald stores with a line, so `journalctl NAME=value` finds it. Names are upper-case
// letters, digits and '_', start with a letter, and are at most 64 bytes; others are left out.
struct Field {
    std::string name;
    std::string value;
};
using Fields = std::vector<Field>;

// The fields of lines that concern a binding, and of the kernel's audit decisions.
inline constexpr std::string_view kBindingField = "CREDGATE_BINDING";
inline constexpr std::string_view kSpiffeIdField = "SPIFFE_ID";
inline constexpr std::string_view kVerdictField = "VERDICT";
// CREDGATE_BINDING=<binding> and, when known, SPIFFE_ID=<spiffe_id>.
Fields binding_fields(std::string_view binding, std::string_view spiffe_id);

void set_max_level(Level level) noexcept;
bool enabled(Level level) noexcept;
void write(Level level, std::string_view component, std::string_view message, const Fields& fields = {});

template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::error, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warning(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::warning, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void notice(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::notice, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::info, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::debug)) write(Level::debug, component, fmt::format(f, std::forward<Args>(args)...));
}

// The same, for a line that carries fields (e.g. binding_fields of the binding it concerns).
template <typename... Args>
void error(const Fields& fields, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::error, component, fmt::format(f, std::forward<Args>(args)...), fields);
}
template <typename... Args>
void warning(const Fields& fields, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::warning, component, fmt::format(f, std::forward<Args>(args)...), fields);
}
template <typename... Args>
void notice(const Fields& fields, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::notice, component, fmt::format(f, std::forward<Args>(args)...), fields);
}
template <typename... Args>
void info(const Fields& fields, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    write(Level::info, component, fmt::format(f, std::forward<Args>(args)...), fields);
}
template <typename... Args>
void debug(const Fields& fields, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(Level::debug)) write(Level::debug, component, fmt::format(f, std::forward<Args>(args)...), fields);
}

// For tests: while a Capture lives, lines ("<level>component: message") and their fields are kept
// in it instead of being logged. One at a time, on the thread that logs.
class Capture {
public:
    Capture();
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    const std::vector<std::string>& lines() const noexcept { return lines_; }
    // The fields of lines()[i].
    const Fields& fields(size_t i) const { return fields_.at(i); }
    // The value of field `name` of lines()[i], or "" when it has none.
    std::string field(size_t i, std::string_view name) const;
    // Number of lines containing `needle`.
    size_t count(std::string_view needle) const;
    // Every line, one per row (for failure messages).
    std::string text() const;

private:
    friend void write(Level, std::string_view, std::string_view, const Fields&);
    std::vector<std::string> lines_;
    std::vector<Fields> fields_;
};

}  // namespace credgate::log
