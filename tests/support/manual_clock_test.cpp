// SPDX-License-Identifier: Apache-2.0
// The hand-driven clock fires timers in due order and only when time reaches them.
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace credgate;
using namespace std::chrono_literals;

TEST_CASE("fires due timers in order and leaves later ones armed") {
    ManualClock clock;
    auto a = clock.make_timer();
    auto b = clock.make_timer();
    std::vector<int> fired;
    a->arm(clock.now() + 10s, [&] { fired.push_back(1); });
    b->arm(clock.now() + 5s, [&] { fired.push_back(2); });
    clock.advance(4s);
    CHECK(fired.empty());
    clock.advance(6s);
    CHECK(fired == std::vector<int>{2, 1});
    CHECK(clock.pending() == 0);
}

TEST_CASE("re-arming or cancelling a timer drops its pending callback") {
    ManualClock clock;
    auto t = clock.make_timer();
    int count = 0;
    t->arm(clock.now() + 1s, [&] { ++count; });
    t->arm(clock.now() + 2s, [&] { count += 10; });
    clock.advance(3s);
    CHECK(count == 10);
    t->arm(clock.now() + 1s, [&] { ++count; });
    t->cancel();
    clock.advance(5s);
    CHECK(count == 10);
}

TEST_CASE("a callback that re-arms during advance fires again within the same advance") {
    ManualClock clock;
    auto t = clock.make_timer();
    int count = 0;
    std::function<void()> tick = [&] {
        ++count;
        t->arm(clock.now() + 1s, tick);
    };
    t->arm(clock.now() + 1s, tick);
    clock.advance(3500ms);
    CHECK(count == 3);
}
