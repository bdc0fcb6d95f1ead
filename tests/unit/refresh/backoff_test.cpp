// SPDX-License-Identifier: Apache-2.0
// The backoff starts at its minimum, doubles with up to 25 % jitter off, and caps at its maximum.
#include "refresh/backoff.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::refresh;
using namespace std::chrono_literals;

TEST_CASE("without jitter the backoff doubles from 1 s and caps at 5 min") {
    Backoff b(1s, 5min, [] { return 0.0; });
    std::vector<Duration> got;
    for (int i = 0; i < 12; ++i) got.push_back(b.next());
    CHECK(got[0] == 1s);
    CHECK(got[1] == 2s);
    CHECK(got[2] == 4s);
    CHECK(got[8] == 256s);
    CHECK(got[9] == 5min);
    CHECK(got[11] == 5min);
}

TEST_CASE("with full jitter each step is three quarters of the doubled value") {
    Backoff b(1s, 5min, [] { return 0.999999; });
    CHECK(b.next() == 1s);
    const auto second = b.next();
    CHECK(second >= 1500ms);
    CHECK(second <= 1510ms);
    for (int i = 0; i < 30; ++i) b.next();
    CHECK(b.current() >= 225s);
    CHECK(b.current() <= 5min);
}

TEST_CASE("reset starts again from the minimum") {
    Backoff b(1s, 5min, [] { return 0.5; });
    b.next();
    b.next();
    b.next();
    b.reset();
    CHECK(b.next() == 1s);
}
