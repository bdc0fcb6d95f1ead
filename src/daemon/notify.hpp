// SPDX-License-Identifier: Apache-2.0
// systemd notification (Type=notify): READY, STOPPING, STATUS and the watchdog keep-alive.
#pragma once

#include "common/clock.hpp"

#include <memory>
#include <string_view>

namespace credgate::daemon {

class Notifier {
public:
    explicit Notifier(Clock& clock) : clock_(clock) {}
    void ready(std::string_view status);
    void stopping(std::string_view status);
    void status(std::string_view status);
    // Sends WATCHDOG=1 at half of WATCHDOG_USEC when systemd asked for it; no-op otherwise.
    void start_watchdog();

private:
    void kick();
    Clock& clock_;
    std::unique_ptr<Timer> watchdog_;
    Duration interval_{0};
};

}  // namespace credgate::daemon
