// SPDX-License-Identifier: Apache-2.0
// Time as people read it: RFC 3339 both ways, and short spans before or after now.
#include "common/time_text.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace std::chrono_literals;

TEST_CASE("an instant prints as RFC 3339 in UTC and parses back") {
    const TimePoint t{std::chrono::seconds{1'700'000'000}};
    CHECK(rfc3339(t) == "2023-11-14T22:13:20Z");
    CHECK(rfc3339(t + 999ms) == "2023-11-14T22:13:20Z");
    CHECK(parse_rfc3339("2023-11-14T22:13:20Z") == t);
    CHECK_FALSE(parse_rfc3339("2023-11-14T22:13:20+01:00"));
    CHECK_FALSE(parse_rfc3339("2023-11-14 22:13:20Z"));
    CHECK_FALSE(parse_rfc3339(""));
}

TEST_CASE("a span relative to now reads as 'ago' or 'in'") {
    const TimePoint now{std::chrono::seconds{1'700'000'000}};
    CHECK(relative_to(now - 12s, now) == "12s ago");
    CHECK(relative_to(now - 245s, now) == "4m05s ago");
    CHECK(relative_to(now - 3h - 7min, now) == "3h07m ago");
    CHECK(relative_to(now - 52h, now) == "2d04h ago");
    CHECK(relative_to(now - 300ms, now) == "just now");
    CHECK(relative_to(now + 4s, now) == "in 4s");
}
