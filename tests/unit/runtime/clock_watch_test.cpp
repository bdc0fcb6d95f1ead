// SPDX-License-Identifier: Apache-2.0
// ClockWatch: the comparison of two clock samples, and a loop that did not run for seconds noticed.
#include "runtime/clock_watch.hpp"
#include "runtime/event_loop.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace credgate;
using namespace credgate::runtime;

namespace {
constexpr Duration kSecond{1000};
constexpr Duration kHour{3600 * 1000};
ClockSample at(Duration wall, Duration monotonic) { return {wall, monotonic}; }
}  // namespace

TEST_CASE("a tick on time with both clocks agreeing is no jump, within the tolerance either way") {
    const auto before = at(kHour * 400000, kSecond * 50);
    CHECK_FALSE(compare_samples(before, at(before.wall + kSecond, before.monotonic + kSecond), kSecond, 2 * kSecond));
    CHECK_FALSE(compare_samples(before, at(before.wall + 2 * kSecond, before.monotonic + kSecond), kSecond,
                                2 * kSecond));
    CHECK_FALSE(compare_samples(before, at(before.wall + 3 * kSecond, before.monotonic + 3 * kSecond), kSecond,
                                2 * kSecond));
}

TEST_CASE("the wall clock stepping forward or back by an hour is a wall step of that size") {
    const auto before = at(kHour * 400000, kSecond * 50);
    auto fwd = compare_samples(before, at(before.wall + kHour + kSecond, before.monotonic + kSecond), kSecond,
                               2 * kSecond);
    REQUIRE(fwd);
    CHECK(fwd->kind == ClockJump::Kind::wall_step);
    CHECK(fwd->amount == kHour);
    auto back = compare_samples(before, at(before.wall - kHour + kSecond, before.monotonic + kSecond), kSecond,
                                2 * kSecond);
    REQUIRE(back);
    CHECK(back->kind == ClockJump::Kind::wall_step);
    CHECK(back->amount == -kHour);
}

TEST_CASE("a host resumed from suspend (the monotonic clock stood still) is a forward wall step") {
    const auto before = at(kHour * 400000, kSecond * 50);
    auto j = compare_samples(before, at(before.wall + 600 * kSecond, before.monotonic + kSecond), kSecond,
                             2 * kSecond);
    REQUIRE(j);
    CHECK(j->kind == ClockJump::Kind::wall_step);
    CHECK(j->amount == 599 * kSecond);
}

TEST_CASE("a process stopped for a minute is a pause of that size") {
    const auto before = at(kHour * 400000, kSecond * 50);
    auto j = compare_samples(before, at(before.wall + 61 * kSecond, before.monotonic + 61 * kSecond), kSecond,
                             2 * kSecond);
    REQUIRE(j);
    CHECK(j->kind == ClockJump::Kind::paused);
    CHECK(j->amount == 60 * kSecond);
}

TEST_CASE("a loop that does not run for seconds reports a pause, once") {
    EventLoop loop;
    std::vector<ClockJump> jumps;
    ClockWatch watch(loop, [&](const ClockJump& j) { jumps.push_back(j); });
    // The loop thread is kept busy for longer than a tick plus the tolerance.
    loop.post([] { std::this_thread::sleep_for(std::chrono::milliseconds(ClockWatch::kInterval.count() +
                                                                          ClockWatch::kTolerance.count() + 1500)); });
    loop.run_until([&] { return !jumps.empty(); });
    REQUIRE(jumps.size() == 1);
    CHECK(jumps[0].kind == ClockJump::Kind::paused);
    CHECK(jumps[0].amount > ClockWatch::kTolerance);
    // The next tick is on time again.
    const auto start = std::chrono::steady_clock::now();
    loop.run_until([&] { return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(1500); });
    CHECK(jumps.size() == 1);
}
