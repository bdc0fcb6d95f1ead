// SPDX-License-Identifier: Apache-2.0
// ClockWatch: both clocks compared once a second; see clock_watch.hpp.
#include "runtime/clock_watch.hpp"

#include "runtime/event_loop.hpp"

#include <chrono>

namespace credgate::runtime {

ClockSample sample_clocks() {
    using std::chrono::duration_cast;
    return {duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch()),
            duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch())};
}

std::optional<ClockJump> compare_samples(const ClockSample& before, const ClockSample& after, Duration interval,
                                         Duration tolerance) {
    const Duration monotonic = after.monotonic - before.monotonic;
    const Duration step = (after.wall - before.wall) - monotonic;
    if (step > tolerance || step < -tolerance) return ClockJump{ClockJump::Kind::wall_step, step};
    const Duration late = monotonic - interval;
    if (late > tolerance) return ClockJump{ClockJump::Kind::paused, late};
    return std::nullopt;
}

ClockWatch::ClockWatch(EventLoop& loop, std::function<void(const ClockJump&)> on_jump)
    : loop_(loop), on_jump_(std::move(on_jump)), timer_(loop.clock().make_timer()), last_(sample_clocks()) {
    timer_->arm(loop_.clock().now() + kInterval, [this] { tick(); });
}

ClockWatch::~ClockWatch() { timer_->cancel(); }

void ClockWatch::tick() {
    const ClockSample now = sample_clocks();
    const auto jump = compare_samples(last_, now, kInterval, kTolerance);
    last_ = now;
    // Re-armed before the callback, which may destroy this watch.
    timer_->arm(loop_.clock().now() + kInterval, [this] { tick(); });
    if (jump) on_jump_(*jump);
}

}  // namespace credgate::runtime
