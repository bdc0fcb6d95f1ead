// SPDX-License-Identifier: Apache-2.0
// Notifier over libsystemd's sd_notify; every call is a no-op outside systemd (NOTIFY_SOCKET unset).
#include "daemon/notify.hpp"

#include "common/log.hpp"

#include <systemd/sd-daemon.h>

#include <fmt/format.h>

#include <string>

namespace credgate::daemon {
namespace {
void send(const std::string& text) {
    if (int r = sd_notify(0, text.c_str()); r < 0)
        log::warning("daemon", "Failed to notify systemd ('{}'): error {}", text.substr(0, text.find('\n')), -r);
}
}  // namespace

void Notifier::ready(std::string_view status) {
    send(fmt::format("READY=1\nSTATUS={}", status));
}
void Notifier::stopping(std::string_view status) {
    send(fmt::format("STOPPING=1\nSTATUS={}", status));
}
void Notifier::status(std::string_view status) {
    send(fmt::format("STATUS={}", status));
}

void Notifier::start_watchdog() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    interval_ = std::chrono::duration_cast<Duration>(std::chrono::microseconds(usec / 2));
    if (interval_.count() <= 0) interval_ = Duration{1};
    watchdog_ = clock_.make_timer();
    log::info("daemon", "systemd watchdog enabled: keep-alive every {} ms", interval_.count());
    kick();
}

void Notifier::kick() {
    send("WATCHDOG=1");
    watchdog_->arm(clock_.now() + interval_, [this] { kick(); });
}

}  // namespace credgate::daemon
