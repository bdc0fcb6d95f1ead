// SPDX-License-Identifier: Apache-2.0
// Kernel enforcement: loads (or adopts) credgate's pinned BPF LSM programs and maps, protects
// credential files, applies compiled rules atomically and reads audit events. No libbpf type here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "identity/compile.hpp"
#include "policy/model.hpp"

namespace credgate::enforce {

using identity::FileKey;

// How long the rule half a flip retired may still serve a hook that chose it before the flip. Such a
// hook finishes within microseconds; the half is emptied (clear_inactive_half) only this long after
// the flip, so no hook ever sees old and new entries mixed.
inline constexpr std::chrono::milliseconds kRuleGracePeriod{50};

// Whether this kernel can enforce. "Unsupported" is a value with a message naming the missing piece.
struct Support {
    bool supported = false;
    std::string message;  // empty when supported
};

// Checks /sys/kernel/security/lsm, kernel BTF, that a no-op LSM program loads and attaches, and that
// /proc/kallsyms shows this process the real addresses of the kernel symbols the programs are built
// with (kernel.kptr_restrict and CAP_SYSLOG decide). Cached: the first result is returned on every
// later call.
const Support& probe();

struct Settings {
    policy::EnforcementMode mode = policy::EnforcementMode::enforce;
    std::string pin_dir = "/sys/fs/bpf/credgate";
    // Executables whose root processes are credgated (exempt from tamper and self-protection
    // checks) besides this process's own, which is always registered (on adoption it already is:
    // only an owner can open the pins). A path that a non-root uid could replace, or that does not
    // exist, is not registered (a warning says why).
    std::vector<std::string> owner_executables;
};

// One decision on a protected object, as read from the audit ring buffer.
struct AuditEvent {
    uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC
    uint64_t cgroup_id = 0;
    FileKey exe;
    FileKey object;
    uint32_t pid = 0, tgid = 0, uid = 0, gid = 0;
    uint32_t binding = 0;
    std::string hook;     // "file_open", "file_receive", "inode_unlink", ... "bpf_map"
    std::string verdict;  // "allow", "deny", "audit-deny"
    uint32_t suppressed = 0;  // events of this subject dropped by the kernel's rate limit before this one
    std::string comm;
};

class Enforcer {
public:
    // Loads, attaches and pins the programs and maps under settings.pin_dir, or, when they are
    // pinned, keeps the maps (and the state in them) and compares the pinned programs with this
    // build's: the same tags and constants adopt them, detaching nothing; others are replaced with
    // no moment unprotected, this build's links attached before the old ones are unpinned. Fails
    // with ErrorKind::unsupported (probe()'s message) on kernels that cannot enforce, before anything
    // pinned is touched. A failure is logged here; callers only decide what follows from it.
    static Result<std::unique_ptr<Enforcer>> create(const Settings& settings);
    ~Enforcer();
    Enforcer(const Enforcer&) = delete;
    Enforcer& operator=(const Enforcer&) = delete;

    bool adopted() const noexcept;  // true when pinned state was reused (its programs kept or replaced)

    // Registers the file now at this process's executable path, and at each owner_executables path,
    // where it is another file than the one registered (a package replaced it): the next credgated
    // started from there can then open the pins. Returns how many were registered; logs each.
    size_t register_owners();
    // Registers the file now at this process's executable path alone (a handover to the version a
    // package put there): true when registered now, false when it was already; the error says why
    // it cannot be (the file is missing, or a non-root user could have replaced it).
    Result<bool> register_own_path();
    // This process's executable path as it was started.
    const std::string& own_path() const noexcept;

    // Gate open() of this inode by the rules of `binding` (index into CompiledRules::bindings).
    // Call it BEFORE the file gets content. The inode may no longer be renamed, linked, unlinked
    // or chmod-ed by anyone but credgated.
    Result<void> protect_file(FileKey file, uint32_t binding);
    // A directory holding credential files: entries are added/removed only by credgated.
    Result<void> protect_directory(FileKey dir);
    // A file that is no longer published stays protected until the kernel frees its inode (nothing
    // reaches it any more); then the programs drop it themselves. This makes it unreadable by every
    // binding (its binding went away); false when it was already freed.
    Result<bool> revoke_access(FileKey file);
    // Drops the protection of a directory credgated no longer uses (it holds no credential).
    Result<void> release_directory(FileKey dir);
    // Whether the kernel still knows this inode (it has not been freed since it was protected).
    bool is_protected(FileKey file);
    // An object that no longer exists and whose number is never given to another (a removed sysfs
    // node): its entry goes now, as the kernel drops a freed inode's.
    Result<void> forget(FileKey file);
    // Revokes access to every credential bound to one of `slots` (bindings a previous credgated had
    // and this one does not). Returns how many.
    Result<size_t> revoke_slots(const std::vector<uint32_t>& slots);
    // The live rule set's slots by binding name hash (binding_name_hash), as a previous credgated
    // left them: slot index -> hash, for slots with rules.
    std::vector<std::pair<uint32_t, uint64_t>> live_slots();
    // A workload's program: write-opens and truncation are refused, its processes cannot be ptraced.
    Result<void> register_trusted_exec(FileKey file);

    // Rules are double buffered: the programs read which half is live once per hook, then look up
    // that half only. apply_rules fills the inactive half and flips, making the whole new set live
    // at once (readers see the old or the new set), registers every rule's trusted executables and
    // drops the marks of programs no rule names. It needs an empty inactive half and refuses
    // otherwise: the caller empties it with clear_inactive_half, kRuleGracePeriod after the flip that
    // retired it (or after adoption, whose last flip is unknown). apply_rules never waits.
    Result<void> apply_rules(const identity::CompiledRules& rules);
    // Whether the inactive half is known to be empty: true after a fresh load (new maps) and after
    // clear_inactive_half; false after adoption, after a flip and after an apply that failed midway.
    bool inactive_half_clean() const noexcept;
    // Empties the inactive half once every BPF program running at the call has returned (an RCU
    // grace period, rcu_barrier.hpp: it blocks for milliseconds; after kRuleGracePeriod, usually
    // less), so no hook that read the generation before the flip can find its half changing.
    Result<void> clear_inactive_half();
    Result<void> set_mode(policy::EnforcementMode mode);

    // Every protected inode, for tests and diagnostics.
    struct Object {
        FileKey file;
        uint32_t binding = 0;
        uint32_t flags = 0;
        bool credential() const noexcept;  // open is gated by `binding`'s rules
    };
    std::vector<Object> objects();
    std::optional<Object> object(FileKey file);

    // Waits up to `timeout` for audit events and hands each to `on_event`; returns how many.
    Result<size_t> poll_audit(std::chrono::milliseconds timeout, const std::function<void(const AuditEvent&)>& on_event);

    struct Impl;

private:
    explicit Enforcer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The key the programs give an object (credgate_abi.h): the kernel's dev and the inode number, or
// CREDGATE_DEV_SYSFS on sysfs, whatever super block the file was reached through.
FileKey object_key(uint64_t st_dev, uint64_t ino, uint64_t fs_magic) noexcept;

// Whether an event's hook decides on reading a credential, so its binding index names a binding
// (file_open, file_receive, file_permission, mmap_file); other hooks guard objects of no binding.
bool audit_names_binding(const AuditEvent& event) noexcept;
// The binding an event's decision was about, when it names one and `rules` know it; else nothing.
const identity::CompiledRules::Binding* audit_binding(const AuditEvent& event, const identity::CompiledRules* rules);

// One JSON object (no newline) for an audit event; exe path from /proc/<tgid>/exe while the process
// lives; binding name and SPIFFE ID from `rules` when the index is known.
std::string audit_json(const AuditEvent& event, const identity::CompiledRules* rules);

// The hash a binding's kernel record carries (FNV-1a 64 of its name).
uint64_t binding_name_hash(std::string_view name) noexcept;

// Removes every pin under pin_dir (detaching enforcement). For tests and uninstall; credgated's
// own process must run it (the programs refuse everyone else).
Result<void> remove_pins(const std::string& pin_dir);

}  // namespace credgate::enforce
