// SPDX-License-Identifier: Apache-2.0
// The event loop's real-time clock, posted work, signal handlers and descriptor readiness.
#include "runtime/event_loop.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <vector>

using namespace credgate;
using namespace credgate::runtime;

TEST_CASE("clock timers fire in deadline order and cancelled ones never fire") {
    EventLoop loop;
    auto& clock = loop.clock();
    std::vector<int> fired;
    auto a = clock.make_timer();
    auto b = clock.make_timer();
    auto c = clock.make_timer();
    TimePoint start = clock.now();
    a->arm(start + Duration{30}, [&] { fired.push_back(1); });
    b->arm(start + Duration{10}, [&] { fired.push_back(2); });
    c->arm(start + Duration{20}, [&] { fired.push_back(3); });
    c->cancel();
    loop.run_until([&] { return fired.size() == 2; });
    CHECK(fired == std::vector<int>{2, 1});
    CHECK(clock.now() - start >= Duration{30});

    // Re-arming replaces the pending callback; a past deadline fires at once.
    a->arm(start, [&] { fired.push_back(4); });
    a->arm(start, [&] { fired.push_back(5); });
    loop.run_until([&] { return fired.size() == 3; });
    CHECK(fired.back() == 5);
    // A timer destroyed while armed does not fire.
    auto d = clock.make_timer();
    d->arm(clock.now(), [&] { fired.push_back(6); });
    d.reset();
    loop.post([&] { fired.push_back(7); });
    loop.run();
    CHECK(fired.back() == 7);
}

TEST_CASE("signal handlers run on the loop") {
    EventLoop loop;
    int got = 0;
    REQUIRE(loop.on_signal(SIGHUP, [&](int signo) {
        got = signo;
        loop.stop();
    }));
    loop.post([] { std::raise(SIGHUP); });
    loop.run();
    CHECK(got == SIGHUP);
    CHECK(loop.stopped());
}

TEST_CASE("a readable descriptor's callback runs on the loop until its watch is destroyed, which leaves it open") {
    EventLoop loop;
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    int calls = 0;
    auto drain = [&] {
        char buf[16];
        while (::read(fds[0], buf, sizeof buf) > 0) {
        }
        ++calls;
    };
    auto watch = loop.watch_readable(fds[0], drain);
    REQUIRE(::write(fds[1], "a", 1) == 1);
    loop.run_until([&] { return calls == 1; });
    CHECK(calls == 1);
    REQUIRE(::write(fds[1], "b", 1) == 1);
    loop.run_until([&] { return calls == 2; });
    CHECK(calls == 2);

    watch.reset();
    REQUIRE(::write(fds[1], "c", 1) == 1);
    bool posted = false;
    loop.post([&] { posted = true; });
    loop.run();  // returns once nothing is left: the destroyed watch waits for nothing
    CHECK(posted);
    CHECK(calls == 2);
    CHECK(::fcntl(fds[0], F_GETFD) != -1);
    char c = 0;
    CHECK(::read(fds[0], &c, 1) == 1);
    CHECK(c == 'c');
    ::close(fds[0]);
    ::close(fds[1]);
}
