// SPDX-License-Identifier: Apache-2.0
// A wait for every BPF program running now to return: the half of the rules a flip retired is emptied
// only after it (rules.cpp), so no hook can be reading it.
#pragma once

#include "common/result.hpp"

namespace credgate::enforce::detail {

// The kernel's bpf(BPF_MAP_UPDATE_ELEM) on an array-of-maps entry returns only after an RCU grace
// period (kernel/bpf/syscall.c: maybe_wait_bpf_programs calls synchronize_rcu()), and each run of a
// non-sleepable BPF program (all of ours) is one RCU read-side section. So one such update, of a
// one-entry array of maps created for this, is a barrier: every program that started before it has
// returned when it does. It blocks the caller for one grace period (milliseconds).
class RcuBarrier {
public:
    RcuBarrier() = default;
    RcuBarrier(const RcuBarrier&) = delete;
    RcuBarrier& operator=(const RcuBarrier&) = delete;
    RcuBarrier(RcuBarrier&& other) noexcept;
    RcuBarrier& operator=(RcuBarrier&& other) noexcept;
    ~RcuBarrier();

    // Creates the two maps (a one-entry array and an array of maps holding it).
    static Result<RcuBarrier> create();
    Result<void> wait() const;

private:
    void close_fds() noexcept;
    int inner_ = -1, outer_ = -1;
};

}  // namespace credgate::enforce::detail
