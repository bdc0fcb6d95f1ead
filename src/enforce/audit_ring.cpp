// SPDX-License-Identifier: Apache-2.0
// The reader of the credgate_audit ring buffer: each raw credgate_audit_event (credgate_abi.h)
// becomes an AuditEvent with its hook and verdict named.
#include "enforce/audit_ring.hpp"

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "enforce/enforcer_impl.hpp"
#include "enforce/kernel_maps.hpp"

#include "credgate_abi.h"

namespace credgate::enforce::detail {

namespace {

const char* hook_name(uint32_t hook) {
    switch (hook) {
        case CREDGATE_HOOK_FILE_OPEN: return "file_open";
        case CREDGATE_HOOK_FILE_RECEIVE: return "file_receive";
        case CREDGATE_HOOK_INODE_UNLINK: return "inode_unlink";
        case CREDGATE_HOOK_INODE_RENAME: return "inode_rename";
        case CREDGATE_HOOK_INODE_LINK: return "inode_link";
        case CREDGATE_HOOK_INODE_SETATTR: return "inode_setattr";
        case CREDGATE_HOOK_INODE_SETXATTR: return "inode_setxattr";
        case CREDGATE_HOOK_PTRACE: return "ptrace_access_check";
        case CREDGATE_HOOK_BPF: return "bpf";
        case CREDGATE_HOOK_BPF_MAP: return "bpf_map";
        case CREDGATE_HOOK_BPF_PROG: return "bpf_prog";
        case CREDGATE_HOOK_FILE_PERMISSION: return "file_permission";
        case CREDGATE_HOOK_MMAP_FILE: return "mmap_file";
        case CREDGATE_HOOK_INODE_CREATE: return "inode_create";
        case CREDGATE_HOOK_TASK_KILL: return "task_kill";
        case CREDGATE_HOOK_TASK_SETRLIMIT: return "task_setrlimit";
        case CREDGATE_HOOK_COREDUMP: return "coredump";
        case CREDGATE_HOOK_LOCKED_DOWN: return "locked_down";
        case CREDGATE_HOOK_SB_MOUNT: return "sb_mount";
        case CREDGATE_HOOK_SB_UMOUNT: return "sb_umount";
        case CREDGATE_HOOK_PERF_EVENT: return "perf_event_alloc";
        case CREDGATE_HOOK_INODE_REMOVEXATTR: return "inode_removexattr";
        default: return "unknown";
    }
}

const char* verdict_name(uint32_t verdict) {
    switch (verdict) {
        case CREDGATE_VERDICT_ALLOW: return "allow";
        case CREDGATE_VERDICT_DENY: return "deny";
        case CREDGATE_VERDICT_AUDIT_DENY: return "audit-deny";
        default: return "unknown";
    }
}

}  // namespace

AuditRing::~AuditRing() {
    if (ring_) ring_buffer__free(ring_);
}

int AuditRing::on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<AuditRing*>(ctx);
    if (size < sizeof(credgate_audit_event) || !self->on_event_) return 0;
    credgate_audit_event raw{};
    std::memcpy(&raw, data, sizeof(raw));
    AuditEvent e;
    e.timestamp_ns = raw.timestamp_ns;
    e.cgroup_id = raw.cgroup_id;
    e.exe = FileKey{raw.exe_dev, raw.exe_ino};
    e.object = FileKey{raw.object_dev, raw.object_ino};
    e.pid = raw.pid;
    e.tgid = raw.tgid;
    e.uid = raw.uid;
    e.gid = raw.gid;
    e.binding = raw.binding;
    e.hook = hook_name(raw.hook);
    e.verdict = verdict_name(raw.verdict);
    e.suppressed = raw.suppressed;
    e.comm.assign(raw.comm, strnlen(raw.comm, sizeof(raw.comm)));
    (*self->on_event_)(e);
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
