// SPDX-License-Identifier: Apache-2.0
// Clock and one-shot timer interfaces, so schedulers run on real time in the daemon and on
// hand-driven time in tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace credgate {

using Duration = std::chrono::milliseconds;
// Wall-clock instants (Vault and JWTs speak Unix time).
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

class Timer {
public:
    virtual ~Timer() = default;
    // Arms (or re-arms) the timer; a pending callback is cancelled first.
    virtual void arm(TimePoint when, std::function<void()> callback) = 0;
    virtual void cancel() = 0;
};

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    virtual std::unique_ptr<Timer> make_timer() = 0;
};

}  // namespace credgate
