// SPDX-License-Identifier: Apache-2.0
// stderr sink for log lines; one write(2) per line so concurrent lines never interleave.
#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <string>

namespace credgate::log {
namespace {
std::atomic<int> max_level{static_cast<int>(Level::info)};
Capture* capture = nullptr;
}

void set_max_level(Level level) noexcept { max_level.store(static_cast<int>(level)); }

bool enabled(Level level) noexcept { return static_cast<int>(level) <= max_level.load(); }

void write(Level level, std::string_view component, std::string_view message) {
    if (!enabled(level)) return;
    std::string line = fmt::format("<{}>{}: {}\n", static_cast<int>(level), component, message);
    if (capture) {
        line.pop_back();
        capture->lines_.push_back(std::move(line));
        return;
    }
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<size_t>(n);
    }
}

Capture::Capture() { capture = this; }

Capture::~Capture() {
    if (capture == this) capture = nullptr;
}

size_t Capture::count(std::string_view needle) const {
    size_t n = 0;
    for (const auto& l : lines_)
        if (l.find(needle) != std::string::npos) ++n;
    return n;
}

std::string Capture::text() const {
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
}

}  // namespace credgate::log
