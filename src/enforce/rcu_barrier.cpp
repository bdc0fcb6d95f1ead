// SPDX-License-Identifier: Apache-2.0
#include "enforce/rcu_barrier.hpp"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "enforce/kernel_maps.hpp"

namespace credgate::enforce::detail {

RcuBarrier::RcuBarrier(RcuBarrier&& other) noexcept
    : inner_(std::exchange(other.inner_, -1)), outer_(std::exchange(other.outer_, -1)) {}

RcuBarrier& RcuBarrier::operator=(RcuBarrier&& other) noexcept {
    if (this != &other) {
        close_fds();
        inner_ = std::exchange(other.inner_, -1);
        outer_ = std::exchange(other.outer_, -1);
    }
    return *this;
}

RcuBarrier::~RcuBarrier() { close_fds(); }

void RcuBarrier::close_fds() noexcept {
    if (outer_ >= 0) ::close(std::exchange(outer_, -1));
    if (inner_ >= 0) ::close(std::exchange(inner_, -1));
}

Result<RcuBarrier> RcuBarrier::create() {
    RcuBarrier b;
    b.inner_ = bpf_map_create(BPF_MAP_TYPE_ARRAY, "credgate_rcu_in", sizeof(__u32), sizeof(__u32), 1, nullptr);
    if (b.inner_ < 0)
        return fail(ErrorKind::internal,
                    fmt::format("cannot create the map the rule swap waits with: {}", errno_text(errno)));
    LIBBPF_OPTS(bpf_map_create_opts, opts, .inner_map_fd = static_cast<__u32>(b.inner_));
    b.outer_ = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "credgate_rcu", sizeof(__u32), sizeof(__u32), 1, &opts);
    if (b.outer_ < 0)
        return fail(ErrorKind::internal,
                    fmt::format("cannot create the array of maps the rule swap waits with: {}", errno_text(errno)));
    return b;
}

Result<void> RcuBarrier::wait() const {
    if (outer_ < 0) return fail(ErrorKind::internal, "the rule swap's RCU barrier was not created");
    const __u32 key = 0, value = static_cast<__u32>(inner_);
    if (bpf_map_update_elem(outer_, &key, &value, BPF_ANY) != 0)
        return fail(ErrorKind::internal,
                    fmt::format("cannot wait for running BPF programs (array-of-maps update): {}", errno_text(errno)));
    return {};
}

}  // namespace credgate::enforce::detail
