// SPDX-License-Identifier: Apache-2.0
// Hand-driven clock for tests of schedulers.
#include "support/manual_clock.hpp"

namespace credgate {

class ManualTimer final : public Timer {
public:
    explicit ManualTimer(ManualClock& clock) : clock_(clock) {}
    ~ManualTimer() override { cancel(); }

    void arm(TimePoint when, std::function<void()> callback) override {
        cancel();
        clock_.queue_.emplace(when, ManualClock::Entry{std::move(callback), this});
    }

    void cancel() override {
        for (auto it = clock_.queue_.begin(); it != clock_.queue_.end();) {
            if (it->second.owner == this)
                it = clock_.queue_.erase(it);
            else
                ++it;
        }
    }

private:
    ManualClock& clock_;
};

std::unique_ptr<Timer> ManualClock::make_timer() { return std::make_unique<ManualTimer>(*this); }

TimePoint ManualClock::next_deadline() const {
    return queue_.empty() ? TimePoint::max() : queue_.begin()->first;
}

void ManualClock::advance(Duration d) {
    const TimePoint target = now_ + d;
    while (!queue_.empty() && queue_.begin()->first <= target) {
        auto it = queue_.begin();
        now_ = std::max(now_, it->first);
        auto callback = std::move(it->second.callback);
        queue_.erase(it);
        callback();  // may arm new timers
    }
    now_ = target;
}

}  // namespace credgate
