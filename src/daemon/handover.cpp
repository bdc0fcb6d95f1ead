// SPDX-License-Identifier: Apache-2.0
// Handover (`credgatectl handover`, from the package's postinst before its restart): the executable a
// package put at credgated's path is registered, then a one-shot window is armed in which the next
// stop leaves the credential files and current tokens to the credgated started next (shutdown.cpp).
#include "daemon/app_impl.hpp"

#include "common/log.hpp"
#include "common/time_text.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

namespace credgate::daemon {
namespace {
constexpr const char* kComponent = "daemon";
}

HandoverOutcome AppImpl::handover() {
    HandoverOutcome out;
    if (stopping_) {
        out.error = "credgated is shutting down";
        return out;
    }
    // First, or not at all: a window armed for a successor that cannot open the pins would have the
    // stop keep files that nobody then refreshes, and say the upgrade went well.
    auto registered = protection_->register_own_path();
    if (!registered) {
        out.error = "cannot register the new executable: " + registered.error().message;
        log::error(kComponent, "Failed to prepare a handover: {}; the next stop revokes and removes as usual",
                   out.error);
        return out;
    }
    out.registered = *registered;
    const TimePoint now = loop_.clock().now();
    handover_window_.arm(now);
    out.window_closes = *handover_window_.closes_at();
    out.ok = true;
    log::notice(kComponent,
                "Handover armed: {}; a stop before {} keeps every credential file and current token for the next "
                "credgated",
                out.registered, rfc3339(out.window_closes));
    return out;
}

}  // namespace credgate::daemon
