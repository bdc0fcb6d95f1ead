// SPDX-License-Identifier: Apache-2.0
// A step of the wall clock (NTP; a host resumed from suspend) or a pause of credgated (SIGSTOP, a
// starved CPU). Lease and token times are wall-clock instants computed when Vault answered, and the
// timers armed from them wait on the monotonic clock.
// - After a step, instants computed before it are off by the step's size (and a suspend, during which
//   the monotonic clock stood still, left every timer late by its length). So every binding fetches a
//   fresh secret at once (a new login, a new secret, the previous token revoked after revokeGrace),
//   exactly as an operator's rotation. At most one such re-fetch per kClockRefetchSpacing; a later step
//   within it is acted on when the spacing has passed, so the last step always is.
// - After a pause the monotonic clock ran on, so every timer that came due during it fires as soon as
//   the loop runs: a secret whose lease ended is removed, a refresh that was due starts. The pause is
//   logged and shown, and nothing else is done: rotating every binding whenever the host is busy for
//   a few seconds would turn load on the node into load on Vault.
#include "daemon/app_impl.hpp"

#include "common/log.hpp"
#include "runtime/event_loop.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace credgate::daemon {
namespace {
constexpr const char* kComponent = "daemon";
constexpr std::chrono::seconds kClockRefetchSpacing{10};

std::string describe(const runtime::ClockJump& jump) {
    // Rounded: the two clocks are read one after the other, a few ms apart under load.
    const auto secs = std::chrono::round<std::chrono::seconds>(jump.amount).count();
    if (jump.kind == runtime::ClockJump::Kind::paused)
        return fmt::format("credgated did not run for {} s (stopped, or starved of CPU)", secs);
    return fmt::format("the wall clock stepped {} by {} s (an NTP step, or the host resumed from suspend)",
                       secs < 0 ? "back" : "forward", std::llabs(secs));
}
}  // namespace

void AppImpl::on_clock_jump(const runtime::ClockJump& jump) {
    if (stopping_) return;
    const std::string what = describe(jump);
    if (jump.kind == runtime::ClockJump::Kind::paused) {
        const std::string action = "the timers that came due meanwhile run now";
        log::warning(kComponent, "{}; {}", what, action);
        last_clock_event_ = ClockEvent{loop_.clock().now(), what, action};
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    std::string action = "every binding fetches a fresh secret now";
    const bool held_back = last_clock_refetch_ && now - *last_clock_refetch_ < kClockRefetchSpacing;
    if (held_back) {
        const auto wait = std::chrono::duration_cast<Duration>(kClockRefetchSpacing - (now - *last_clock_refetch_));
        action = fmt::format("every binding fetches a fresh secret in {} ms (one clock re-fetch per {} s)",
                             wait.count(), kClockRefetchSpacing.count());
        if (!clock_refetch_timer_) clock_refetch_timer_ = loop_.clock().make_timer();
        clock_refetch_timer_->arm(loop_.clock().now() + wait, [this] { refetch_after_clock_jump(); });
    }
    log::warning(kComponent, "{}: times computed before it cannot be trusted; {}", what, action);
    last_clock_event_ = ClockEvent{loop_.clock().now(), what, action};
    if (!held_back) refetch_after_clock_jump();
}

void AppImpl::refetch_after_clock_jump() {
    if (stopping_) return;
    last_clock_refetch_ = std::chrono::steady_clock::now();
    if (clock_refetch_timer_) clock_refetch_timer_->cancel();
    size_t count = 0;
    for (const auto& [name, rt] : bindings_->running()) {
        if (!rt->engine) continue;  // BLOCKED: nothing was fetched
        rt->engine->rotate([](Result<void>) {});
        ++count;
    }
    log::notice(kComponent, "Fetching a fresh secret for {} binding(s) after the clock event", count);
}

}  // namespace credgate::daemon
