// SPDX-License-Identifier: Apache-2.0
// Notices what timers on the monotonic clock cannot: the wall clock stepping (an NTP step, or a host
// resumed from suspend, during which the monotonic clock stood still) and this process not running for
// a while (SIGSTOP, a starved CPU). Both clocks are sampled once a second on the event loop.
#pragma once

#include "common/clock.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace credgate::runtime {

class EventLoop;

// One reading of both clocks, as durations since their epochs.
struct ClockSample {
    Duration wall{};
    Duration monotonic{};
};

struct ClockJump {
    enum class Kind {
        wall_step,  // the wall clock moved by `amount` more than the monotonic clock (negative: back)
        paused,     // the process ran `amount` later than its timer asked for
    };
    Kind kind = Kind::wall_step;
    Duration amount{};
};

// What a tick `interval` after `before` shows, `tolerance` being the deviation treated as noise.
// A wall step wins over a pause when both show.
std::optional<ClockJump> compare_samples(const ClockSample& before, const ClockSample& after, Duration interval,
                                         Duration tolerance);

// Calls `on_jump` on the loop thread for every jump it sees, at most once per tick.
class ClockWatch {
public:
    static constexpr Duration kInterval{1000};
    static constexpr Duration kTolerance{2000};

    ClockWatch(EventLoop& loop, std::function<void(const ClockJump&)> on_jump);
    ~ClockWatch();
    ClockWatch(const ClockWatch&) = delete;
    ClockWatch& operator=(const ClockWatch&) = delete;

private:
    void tick();

    EventLoop& loop_;
    std::function<void(const ClockJump&)> on_jump_;
    std::unique_ptr<Timer> timer_;
    ClockSample last_{};
};

ClockSample sample_clocks();

}  // namespace credgate::runtime
