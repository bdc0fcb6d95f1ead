// SPDX-License-Identifier: Apache-2.0
// RuleSwap: writes kernel rule sets now or from a timer, never before the retired half's grace period.
#include "protection/rule_swap.hpp"

#include "common/log.hpp"

namespace credgate::protection {
namespace {
constexpr const char* kComponent = "protection";
}

RuleSwap::RuleSwap(Clock& clock, Halves halves, std::chrono::milliseconds grace)
    : clock_(clock),
      halves_(std::move(halves)),
      grace_(std::chrono::duration_cast<Duration>(grace)),
      timer_(clock.make_timer()),
      retired_at_(clock.now()) {
    if (!halves_.inactive_clean()) arm();
}

RuleSwap::~RuleSwap() = default;

bool RuleSwap::in_grace() {
    const TimePoint now = clock_.now();
    if (now < retired_at_) retired_at_ = now;  // the wall clock stepped back: the grace period restarts
    // Instants are whole milliseconds: one more makes sure a whole grace period has passed.
    return now <= retired_at_ + grace_;
}

void RuleSwap::arm() {
    timer_->arm(retired_at_ + grace_ + Duration{1}, [this] { on_timer(); });
}

Result<void> RuleSwap::swap(const identity::CompiledRules& rules) {
    if (!halves_.inactive_clean())
        if (auto r = halves_.clear_inactive(); !r) return r;
    if (auto r = halves_.fill_and_flip(rules); !r) return r;
    retired_at_ = clock_.now();
    arm();  // empties the half just retired once no hook can be using it
    return {};
}

Result<void> RuleSwap::write(identity::CompiledRules rules) {
    if (!halves_.inactive_clean() && in_grace()) {
        pending_ = std::move(rules);
        arm();
        return {};
    }
    auto r = swap(rules);
    // A set still waiting stays the one to write when this one cannot be.
    if (r) {
        pending_.reset();
        failing_ = false;
    }
    return r;
}

void RuleSwap::on_timer() {
    if (in_grace()) return arm();
    if (!pending_) {
        if (halves_.inactive_clean()) return;
        if (auto r = halves_.clear_inactive(); !r)
            log::warning(kComponent, "Failed to empty the retired rule half: {}; the next swap empties it",
                         r.error().message);
        return;
    }
    if (auto r = swap(*pending_); !r) {
        if (!failing_)
            log::error(kComponent, "Failed to apply the kernel rules: {}; the previous rules stay, retrying every {} ms",
                       r.error().message, kRuleRetryInterval.count());
        failing_ = true;
        timer_->arm(clock_.now() + kRuleRetryInterval, [this] { on_timer(); });
        return;
    }
    if (failing_) log::notice(kComponent, "Kernel rules applied after earlier failures");
    failing_ = false;
    pending_.reset();
}

}  // namespace credgate::protection
