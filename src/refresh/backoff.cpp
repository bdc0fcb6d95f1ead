// SPDX-License-Identifier: Apache-2.0
// Backoff steps and the default random source.
#include "refresh/backoff.hpp"

#include <algorithm>
#include <random>

namespace credgate::refresh {

RandomSource default_random_source() {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

Backoff::Backoff(Duration min, Duration max, RandomSource random)
    : min_(min), max_(std::max(min, max)), random_(std::move(random)) {}

Duration Backoff::next() {
    if (current_ == Duration::zero()) {
        current_ = min_;
        return current_;
    }
    const Duration doubled = std::min(current_ * 2, max_);
    const double r = std::clamp(random_ ? random_() : 0.0, 0.0, 0.999999);
    const auto jitter = Duration{static_cast<Duration::rep>(static_cast<double>(doubled.count()) * 0.25 * r)};
    current_ = std::max(min_, doubled - jitter);
    return current_;
}

}  // namespace credgate::refresh
