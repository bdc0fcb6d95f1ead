// SPDX-License-Identifier: Apache-2.0
// RFC 3339 formatting and parsing in UTC, and short relative spans.
#include "common/time_text.hpp"

#include <fmt/format.h>

#include <ctime>

namespace credgate {

std::string rfc3339(TimePoint t) {
    const auto whole = std::chrono::time_point_cast<std::chrono::seconds>(t);
    const std::time_t secs = std::chrono::system_clock::to_time_t(whole);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
    if (text.size() != 20 || text.back() != 'Z') return std::nullopt;
    std::tm tm{};
    const std::string s(text);
    const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end != '\0') return std::nullopt;
    const std::time_t secs = ::timegm(&tm);
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::from_time_t(secs));
}

std::string short_duration(Duration d) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 0) s = -s;
    if (s >= 86400) return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
    if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

std::string relative_to(TimePoint t, TimePoint now) {
    if (t > now) return "in " + short_duration(t - now);
    if (now - t < std::chrono::seconds{1}) return "just now";
    return short_duration(now - t) + " ago";
}

}  // namespace credgate
