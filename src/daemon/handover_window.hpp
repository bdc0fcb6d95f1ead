// SPDX-License-Identifier: Apache-2.0
// The handover window (`credgatectl handover`): armed once, it is taken by the first stop within
// kHandoverWindow, which then leaves the credential files and current tokens to the next credgated.
#pragma once

#include "common/clock.hpp"

#include <chrono>
#include <optional>

namespace credgate::daemon {

// Long enough for a package manager to unpack and restart after its maintainer script asked; short
// enough that a handover asked for and then abandoned does not weaken a stop much later.
inline constexpr Duration kHandoverWindow{std::chrono::seconds{120}};

class HandoverWindow {
public:
    // Opens the window from `now` (again, when it is open already).
    void arm(TimePoint now) { armed_at_ = now; }
    // When the open window closes; nothing when it is not armed.
    std::optional<TimePoint> closes_at() const {
        if (!armed_at_) return std::nullopt;
        return *armed_at_ + kHandoverWindow;
    }
    // True once, for the first stop at or before closes_at(); every take closes the window, so a
    // later stop revokes as usual.
    bool take(TimePoint now) {
        const auto closes = closes_at();
        armed_at_.reset();
        return closes && now <= *closes;
    }

private:
    std::optional<TimePoint> armed_at_;
};

}  // namespace credgate::daemon
