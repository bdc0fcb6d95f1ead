// SPDX-License-Identifier: Apache-2.0
// The publish gate: whether credgated may publish secrets at all (kernel enforcement working, or
// the explicit development override), and registration of each new credential file with the kernel.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"
#include "delivery/sink.hpp"
#include "identity/compile.hpp"
#include "policy/binding_definition.hpp"
#include "policy/model.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace credgate::protection {

enum class ProtectionMode {
    enforced,  // BPF LSM programs gate every open of a credential file
    insecure,  // --insecure-no-enforcement: publishing without kernel protection (development only)
    blocked,   // no enforcement and no override: nothing is published
};

const char* to_string(ProtectionMode m) noexcept;

// Whether this kernel (and this build) can enforce; on false, `problem` names the missing piece.
struct EnforcementCheck {
    bool supported = false;
    std::string problem;
};
EnforcementCheck check_enforcement();

// Kernel indexes of bindings. A binding keeps its index (slot) for as long as it exists, so a rule
// swap never hands a published file to another binding's rules; the slot of a binding that is going
// away stays reserved (an identity that matches nobody) in the rule set that drops it.
struct SlotAssignment {
    std::map<std::string, uint32_t> slots;  // binding name -> index
    size_t size = 0;                        // rule set length, reserved and unused slots included
};
SlotAssignment assign_slots(const std::map<std::string, uint32_t>& previous, const std::vector<std::string>& names);

using AuditCounts = std::map<std::pair<std::string, std::string>, uint64_t>;

class Protection {
public:
    virtual ~Protection() = default;

    // Probes the kernel and, when it can enforce, loads or adopts the pinned programs. Never fails:
    // "cannot enforce" becomes mode() == blocked (or insecure with the override) and a message.
    // `clock` times the swaps of the kernel rule halves (see apply); it must outlive the Protection.
    static std::unique_ptr<Protection> create(const policy::AgentConfig& config, bool insecure_no_enforcement,
                                              Clock& clock);

    virtual ProtectionMode mode() const = 0;
    // Why enforcement is unavailable and how to enable it; empty when enforcing.
    virtual const std::string& problem() const = 0;
    // The status line for a blocked binding: what is missing and how to enable it.
    std::string blocked_message() const;

    // Compiles every binding's identity and swaps the kernel rule set at once. Bindings whose
    // identity cannot be compiled are returned as name -> reason (they must not publish). Within
    // enforce::kRuleGracePeriod of the previous swap the kernel write is deferred to a timer (the
    // bindings' slots are settled now); it blocks at most for the RCU grace period that emptying the
    // retired half waits for (Enforcer::clear_inactive_half).
    virtual Result<std::map<std::string, std::string>> apply(
        const std::vector<policy::BindingDefinition>& bindings) = 0;
    // Sink hook: registers a new, still empty credential file under a sink's `root` for its binding's
    // rules, and the directories from `root` down to it.
    virtual Result<void> protect(const std::string& root, const delivery::Target& target, delivery::FileId file) = 0;
    // Sink hook: the file is no longer published.
    virtual void unprotect(const std::string& root, const delivery::Target& target, delivery::FileId file) = 0;
    // Whether a file a previous credgated left is protected now for `target`'s binding (its slot
    // was kept), so it may be kept and given new content; otherwise it must go.
    virtual bool holds(const delivery::Target&, delivery::FileId) { return false; }
    // After a clean shutdown removed every credential file: the empty credential roots no longer need
    // protecting, so an operator may unmount or remove them.
    virtual void release_root() {}
    // Logs the kernel's audit events (one JSON line each, with the VERDICT, CREDGATE_BINDING and
    // SPIFFE_ID fields) and counts them, without blocking; returns how many.
    virtual size_t drain_audit() { return 0; }
    // The audit events drained so far, by binding name ("" for an object of no binding: a directory,
    // credgated's pins, a workload's process) and verdict ("allow", "deny", "audit-deny").
    virtual AuditCounts audit_counts() const { return {}; }
    // Each audit line drain_audit logs is also handed to `observer` (the control API's recent events).
    virtual void on_audit(std::function<void(const std::string& json_line)> observer) { (void)observer; }
    // The program the kernel programs recorded at `pid`'s last exec (the script for #!), which is what
    // process:path rules match: nullopt when the process has no record (it predates the programs).
    // ErrorKind::unsupported when there is no kernel to ask (not enforcing); not_found: no such process.
    virtual Result<std::optional<identity::FileKey>> executed_file(pid_t pid) const {
        (void)pid;
        return fail(ErrorKind::unsupported, "kernel enforcement is not active");
    }
    // Registers credgated's executable again, and enforcement.ownerExecutables, where a file was
    // replaced (a package upgrade), so that the new binary can adopt the pinned programs.
    virtual void register_owners() {}
    // A handover (`credgatectl handover`): registers the file now at credgated's own path, which a
    // package replaced, so that the next credgated started from there may open the pins. Says what
    // was done; fails when that file cannot be registered. Without kernel enforcement there are no
    // pins and nothing to register.
    virtual Result<std::string> register_own_path() {
        return std::string("no kernel enforcement, so no executable to register");
    }
};

// How often credgated drains the kernel's audit ring buffer.
inline constexpr std::chrono::milliseconds kAuditPollInterval{250};

}  // namespace credgate::protection
