// SPDX-License-Identifier: Apache-2.0
// The decoder of raw credgate_audit_event records (credgate_abi.h): fields copied out of the
// record, hook and verdict named.
#include "enforce/audit_record.hpp"

#include <cstring>

#include "credgate_abi.h"

namespace credgate::enforce {

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

std::optional<AuditEvent> decode_audit_record(std::span<const std::byte> record) {
    if (record.size() < sizeof(credgate_audit_event)) return std::nullopt;
    credgate_audit_event raw{};
    std::memcpy(&raw, record.data(), sizeof(raw));
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
    return e;
}

}  // namespace credgate::enforce
