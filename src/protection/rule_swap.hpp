// SPDX-License-Identifier: Apache-2.0
// When a kernel rule set may be written: the rule half the last flip retired is emptied from a timer
// once the grace period has passed, and a set that comes sooner waits for that timer. Nothing sleeps.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"
#include "identity/compile.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace credgate::protection {

// The invariant: the kernel holds two rule halves and a hook reads which one is live once, then
// looks up that half only. After a flip, the retired half may still serve a hook that chose it just
// before; it is emptied (and then refilled) only once `grace` has passed since that flip, by this
// clock. So no hook ever sees entries of two rule sets mixed, and the event loop never waits.
class RuleSwap {
public:
    // The kernel's side: enforce::Enforcer in the daemon, a fake in tests.
    struct Halves {
        std::function<bool()> inactive_clean;
        std::function<Result<void>()> clear_inactive;
        std::function<Result<void>(const identity::CompiledRules&)> fill_and_flip;
    };

    // A dirty inactive half at construction (adopted rules) counts as retired now: when the last
    // flip happened is unknown.
    RuleSwap(Clock& clock, Halves halves, std::chrono::milliseconds grace);
    ~RuleSwap();
    RuleSwap(const RuleSwap&) = delete;
    RuleSwap& operator=(const RuleSwap&) = delete;

    // Writes `rules` now when the inactive half is empty or may be emptied, and fails only then;
    // otherwise keeps them (a later set replaces them) until the timer, which writes them, and logs
    // and retries a failure.
    Result<void> write(identity::CompiledRules rules);
    // Whether a set is kept for the timer (the kernel still holds an older one).
    bool waiting() const noexcept { return pending_.has_value(); }

private:
    bool in_grace();
    void arm();
    void on_timer();
    Result<void> swap(const identity::CompiledRules& rules);

    Clock& clock_;
    Halves halves_;
    Duration grace_;
    std::unique_ptr<Timer> timer_;
    TimePoint retired_at_;  // when the inactive half stopped being live
    std::optional<identity::CompiledRules> pending_;
    bool failing_ = false;  // a deferred write failed; logged once until one succeeds
};

// How soon a deferred write that failed is tried again.
inline constexpr std::chrono::milliseconds kRuleRetryInterval{2000};

}  // namespace credgate::protection
