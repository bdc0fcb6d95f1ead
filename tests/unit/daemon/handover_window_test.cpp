// SPDX-License-Identifier: Apache-2.0
// The handover window: one stop within 120 s of `credgatectl handover` keeps the files, no other.
#include "daemon/handover_window.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::daemon;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
const TimePoint kArmed{seconds{1'700'000'000}};
}

TEST_CASE("a stop without a handover is not a handover") {
    HandoverWindow w;
    CHECK_FALSE(w.closes_at());
    CHECK_FALSE(w.take(kArmed));
}

TEST_CASE("a stop on the last millisecond of the window is a handover, one a millisecond later is not") {
    HandoverWindow on_time;
    on_time.arm(kArmed);
    CHECK(on_time.closes_at() == kArmed + seconds{120});
    CHECK(on_time.take(kArmed + seconds{120}));

    HandoverWindow late;
    late.arm(kArmed);
    CHECK_FALSE(late.take(kArmed + seconds{120} + milliseconds{1}));
}

TEST_CASE("the window is used up by one stop: the next one revokes again") {
    HandoverWindow w;
    w.arm(kArmed);
    CHECK(w.take(kArmed + seconds{5}));
    CHECK_FALSE(w.closes_at());
    CHECK_FALSE(w.take(kArmed + seconds{6}));
}

TEST_CASE("a late stop closes the window too, and arming again opens a fresh one") {
    HandoverWindow w;
    w.arm(kArmed);
    CHECK_FALSE(w.take(kArmed + seconds{200}));
    CHECK_FALSE(w.take(kArmed + seconds{201}));
    w.arm(kArmed + seconds{300});
    CHECK(w.take(kArmed + seconds{419}));
}
