// SPDX-License-Identifier: Apache-2.0
// The reader of the credgate_audit ring buffer: each raw record it hands over is decoded
// (audit_record.cpp) and passed on as an AuditEvent.
#include "enforce/audit_ring.hpp"

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <span>

#include "enforce/audit_record.hpp"
#include "enforce/enforcer_impl.hpp"
#include "enforce/kernel_maps.hpp"

namespace credgate::enforce::detail {

AuditRing::~AuditRing() {
    if (ring_) ring_buffer__free(ring_);
}

int AuditRing::on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<AuditRing*>(ctx);
    if (!self->on_event_) return 0;
    auto e = decode_audit_record(std::span(static_cast<const std::byte*>(data), size));
    if (!e) return 0;
    (*self->on_event_)(*e);
    self->delivered_++;
    return 0;
}

Result<size_t> AuditRing::poll(int map_fd, std::chrono::milliseconds timeout,
                               const std::function<void(const AuditEvent&)>& on_event) {
    if (!ring_) {
        ring_ = ring_buffer__new(map_fd, &AuditRing::on_record, this, nullptr);
        if (!ring_) return fail(ErrorKind::internal, fmt::format("ring_buffer__new: {}", errno_text(errno)));
    }
    on_event_ = &on_event;
    delivered_ = 0;
    const int n = ring_buffer__poll(ring_, static_cast<int>(timeout.count()));
    on_event_ = nullptr;
    if (n < 0 && n != -EINTR)
        return fail(ErrorKind::internal, fmt::format("ring_buffer__poll: {}", errno_text(n)));
    return delivered_;
}

}  // namespace credgate::enforce::detail

namespace credgate::enforce {

Result<size_t> Enforcer::poll_audit(std::chrono::milliseconds timeout,
                                    const std::function<void(const AuditEvent&)>& on_event) {
    return impl_->audit.poll(impl_->maps.audit, timeout, on_event);
}

}  // namespace credgate::enforce
