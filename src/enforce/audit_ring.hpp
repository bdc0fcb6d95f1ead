// SPDX-License-Identifier: Apache-2.0
// The reader of the credgate_audit ring buffer: raw kernel records decoded into AuditEvents.
// Private to src/enforce.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "common/result.hpp"
#include "enforce/enforcer.hpp"

struct ring_buffer;

namespace credgate::enforce::detail {

class AuditRing {
public:
    AuditRing() = default;
    ~AuditRing();
    AuditRing(const AuditRing&) = delete;
    AuditRing& operator=(const AuditRing&) = delete;

    // Waits up to `timeout` for events of the ring buffer map `map_fd` (opened on first use) and
    // hands each to `on_event`; returns how many.
    Result<size_t> poll(int map_fd, std::chrono::milliseconds timeout,
                        const std::function<void(const AuditEvent&)>& on_event);

private:
    static int on_record(void* ctx, void* data, size_t size);

    ring_buffer* ring_ = nullptr;
    const std::function<void(const AuditEvent&)>* on_event_ = nullptr;
    size_t delivered_ = 0;
};

}  // namespace credgate::enforce::detail
