// SPDX-License-Identifier: Apache-2.0
// AuditPoll: one timer re-armed after each drain.
#include "daemon/audit_poll.hpp"

#include "protection/protection.hpp"

namespace credgate::daemon {

void AuditPoll::start() {
    if (!timer_) timer_ = clock_.make_timer();
    poll();
}

void AuditPoll::poll() {
    protection_.drain_audit();
    timer_->arm(clock_.now() + protection::kAuditPollInterval, [this] { poll(); });
}

void AuditPoll::stop() {
    if (!timer_) return;
    protection_.drain_audit();
    timer_->cancel();
}

}  // namespace credgate::daemon
