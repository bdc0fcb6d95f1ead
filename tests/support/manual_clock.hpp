// SPDX-License-Identifier: Apache-2.0
// A Clock whose time moves only when a test calls advance(); due timers fire in time order.
#pragma once

#include "common/clock.hpp"

#include <map>
#include <memory>

namespace credgate {

class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start = TimePoint{std::chrono::seconds{1'700'000'000}}) : now_(start) {}

    TimePoint now() const override { return now_; }
    std::unique_ptr<Timer> make_timer() override;

    // Moves time forward by `d`, firing every timer due on the way, in order of due time.
    void advance(Duration d);
    // Number of armed timers (lets tests check that nothing is scheduled).
    size_t pending() const { return queue_.size(); }
    // The earliest armed deadline, or TimePoint::max() when none.
    TimePoint next_deadline() const;

private:
    friend class ManualTimer;
    struct Entry {
        std::function<void()> callback;
        void* owner;
    };
    std::multimap<TimePoint, Entry> queue_;
    TimePoint now_;
};

}  // namespace credgate
