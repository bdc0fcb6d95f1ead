// SPDX-License-Identifier: Apache-2.0
// Exponential backoff with jitter, as Vault Agent's auto-auth does it: start at the minimum, then
// next = min(2 × current, max) − rand[0, 25 %) of that, reset on success.
#pragma once

#include "common/clock.hpp"

#include <functional>

namespace credgate::refresh {

// Uniform in [0, 1). Injected so tests are deterministic.
using RandomSource = std::function<double()>;
RandomSource default_random_source();

class Backoff {
public:
    Backoff(Duration min, Duration max, RandomSource random);
    // The wait before the next attempt; each call moves one step up.
    Duration next();
    void reset() noexcept { current_ = Duration::zero(); }
    Duration current() const noexcept { return current_; }

private:
    Duration min_;
    Duration max_;
    Duration current_{0};
    RandomSource random_;
};

}  // namespace credgate::refresh
