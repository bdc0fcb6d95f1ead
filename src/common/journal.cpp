// SPDX-License-Identifier: Apache-2.0
// Journal entries through sd_journal_sendv(3): the only file that sees libsystemd's journal API.
// Fields follow systemd.journal-fields(7); a field is sent binary-safe, so a value may hold newlines.
#include "common/journal.hpp"

#include <systemd/sd-journal.h>

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>  // program_invocation_short_name (glibc, _GNU_SOURCE)
#include <charconv>
#include <cstdlib>

namespace credgate::log {
namespace {
constexpr size_t kMaxFieldNameBytes = 64;  // journald's limit (JOURNAL_FIELD_NAME_MAX)
}

bool valid_field_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxFieldNameBytes) return false;
    if (name.front() < 'A' || name.front() > 'Z') return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

std::vector<std::string> journal_entry(Level level, std::string_view component, std::string_view message,
                                       const Fields& fields) {
    std::vector<std::string> entry;
    entry.reserve(fields.size() + 4);
    entry.push_back(fmt::format("MESSAGE={}: {}", component, message));
    entry.push_back(fmt::format("PRIORITY={}", static_cast<int>(level)));
    entry.push_back(fmt::format("SYSLOG_IDENTIFIER={}", program_invocation_short_name));
    entry.push_back(fmt::format("CREDGATE_COMPONENT={}", component));
    for (const auto& f : fields)
        if (valid_field_name(f.name)) entry.push_back(f.name + "=" + f.value);
    return entry;
}

bool journal_stream_matches(std::string_view journal_stream, dev_t device, ino_t inode) noexcept {
    const auto colon = journal_stream.find(':');
    if (colon == std::string_view::npos) return false;
    unsigned long long dev = 0, ino = 0;
    const char* begin = journal_stream.data();
    const char* mid = begin + colon;
    const char* end = begin + journal_stream.size();
    auto [p1, e1] = std::from_chars(begin, mid, dev);
    if (e1 != std::errc{} || p1 != mid || p1 == begin) return false;
    auto [p2, e2] = std::from_chars(mid + 1, end, ino);
    if (e2 != std::errc{} || p2 != end || p2 == mid + 1) return false;
    return dev == static_cast<unsigned long long>(device) && ino == static_cast<unsigned long long>(inode);
}

bool stderr_is_journal() noexcept {
    static const bool is_journal = [] {
        const char* stream = std::getenv("JOURNAL_STREAM");
        struct stat st {};
        if (!stream || ::fstat(STDERR_FILENO, &st) != 0) return false;
        return journal_stream_matches(stream, st.st_dev, st.st_ino);
    }();
    return is_journal;
}

bool send_to_journal(const std::vector<std::string>& entry) {
    std::vector<iovec> iov;
    iov.reserve(entry.size());
    for (const auto& e : entry) iov.push_back({const_cast<char*>(e.data()), e.size()});
    return ::sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
}

}  // namespace credgate::log
