// SPDX-License-Identifier: Apache-2.0
// Logging to stderr with journald priority prefixes ("<3>" error ... "<7>" debug).
// Never pass a secret, a token or a JWT to these functions; log kid, jti, lease ids and expiry instead.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace credgate::log {

enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_max_level(Level level) noexcept;
bool enabled(Level level) noexcept;
void write(Level level, std::string_view component, std::string_view message);

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

// For tests: while a Capture lives, lines ("<level>component: message") are kept in it instead of
// going to stderr. One at a time, on the thread that logs.
class Capture {
public:
    Capture();
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    const std::vector<std::string>& lines() const noexcept { return lines_; }
    // Number of lines containing `needle`.
    size_t count(std::string_view needle) const;
    // Every line, one per row (for failure messages).
    std::string text() const;

private:
    friend void write(Level, std::string_view, std::string_view);
    std::vector<std::string> lines_;
};

}  // namespace credgate::log
