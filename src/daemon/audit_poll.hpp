// SPDX-License-Identifier: Apache-2.0
// Drains the kernel's audit ring buffer on a timer (protection::kAuditPollInterval) while
// credgated enforces, so every decision is logged soon after it is made.
#pragma once

#include "common/clock.hpp"

#include <memory>

namespace credgate::protection {
class Protection;
}

namespace credgate::daemon {

class AuditPoll {
public:
    // `clock` and `protection` must outlive the poll.
    AuditPoll(Clock& clock, protection::Protection& protection) : clock_(clock), protection_(protection) {}
    // Drains now and then every interval.
    void start();
    // Drains what is left, then stops.
    void stop();

private:
    void poll();

    Clock& clock_;
    protection::Protection& protection_;
    std::unique_ptr<Timer> timer_;
};

}  // namespace credgate::daemon
