// SPDX-License-Identifier: Apache-2.0
// Where a log line goes: a test's Capture, journald (journal.cpp) when stderr is its stream, or
// stderr, one write(2) per line so concurrent lines never interleave.
#include "common/log.hpp"

#include "common/journal.hpp"

#include <unistd.h>

#include <atomic>
#include <string>

namespace credgate::log {
namespace {
std::atomic<int> max_level{static_cast<int>(Level::info)};
Capture* capture = nullptr;

void write_stderr(const std::string& line) {
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<size_t>(n);
    }
}
}  // namespace

Fields binding_fields(std::string_view binding, std::string_view spiffe_id) {
    Fields f{{std::string(kBindingField), std::string(binding)}};
    if (!spiffe_id.empty()) f.push_back({std::string(kSpiffeIdField), std::string(spiffe_id)});
    return f;
}

void set_max_level(Level level) noexcept { max_level.store(static_cast<int>(level)); }

bool enabled(Level level) noexcept { return static_cast<int>(level) <= max_level.load(); }

void write(Level level, std::string_view component, std::string_view message, const Fields& fields) {
    if (!enabled(level)) return;
    if (capture) {
        capture->lines_.push_back(fmt::format("<{}>{}: {}", static_cast<int>(level), component, message));
        capture->fields_.push_back(fields);
        return;
    }
    // Through the stream, journald would keep the text but not the fields.
    if (stderr_is_journal() && send_to_journal(journal_entry(level, component, message, fields))) return;
    write_stderr(fmt::format("<{}>{}: {}\n", static_cast<int>(level), component, message));
}

Capture::Capture() { capture = this; }

Capture::~Capture() {
    if (capture == this) capture = nullptr;
}

std::string Capture::field(size_t i, std::string_view name) const {
    for (const auto& f : fields_.at(i))
        if (f.name == name) return f.value;
    return "";
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
