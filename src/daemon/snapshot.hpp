// SPDX-License-Identifier: Apache-2.0
// Plain-data views of the running daemon that the control API renders: bindings, issuer, reloads.
#pragma once

#include "common/clock.hpp"
#include "policy/binding_definition.hpp"
#include "protection/protection.hpp"
#include "refresh/engine.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace credgate::daemon {

// The state of a binding that may not publish (no enforcement, or its backend is missing); the
// others are refresh::to_string of its engine's state.
inline constexpr const char* kBlockedState = "BLOCKED";

struct BindingSnapshot {
    policy::BindingDefinition definition;
    std::string state;    // refresh::to_string(refresh::State) or kBlockedState
    std::string message;  // plain words
    std::optional<refresh::Status> engine;  // absent while blocked
    std::string propagation;                // "file" or "sysfs"
    std::string path;                       // the credential file (published or not)
    bool published = false;
    uint32_t file_uid = 0;    // owner and mode of the published file
    uint32_t file_mode = 0;
    std::optional<uint32_t> pinned_uid;  // the identity's one uid; none: the kernel programs are the only gate
    std::string vault_read_url;
    std::chrono::seconds lease_duration{0};  // of the last secret read
    std::chrono::seconds token_ttl{0};       // of the last login token
    std::vector<std::string> warnings;       // about this host, e.g. a bound program another uid could replace
};

struct ReloadOutcome {
    bool ok = false;
    TimePoint at{};
    std::vector<std::string> errors;  // every diagnostic, "file:line:col: Kind/name: field: message"
    std::vector<std::string> warnings;
    policy::ReloadPlan plan;
};

// How `credgatectl handover` ended: on ok, the next stop within the window keeps the files and
// current tokens for the next credgated; otherwise nothing was armed and `error` says why.
struct HandoverOutcome {
    bool ok = false;
    std::string registered;  // what was done about the executable at credgated's path
    std::string error;
    TimePoint window_closes{};
};

// How an operator's rotation of one binding (`credgatectl rotate`) ended.
struct RotateOutcome {
    enum class Result {
        rotated,          // a new secret was fetched and delivered
        no_such_binding,
        blocked,          // the binding is BLOCKED: it publishes nothing, so nothing rotates
        failed,           // the fetch failed; it is retried as after any failure
        stopping,         // credgated is shutting down
    };
    Result result = Result::failed;
    std::string message;                     // why not, in plain words
    std::optional<BindingSnapshot> binding;  // the binding afterwards; absent for no_such_binding
};

// Where the file backend keeps credentials, whether they can reach swap, and credgate.ko.
struct DeliverySnapshot {
    std::string root;
    std::string filesystem;  // "tmpfs (noswap)", "ramfs", "tmpfs", "directory"
    bool may_swap = true;
    std::string reason;      // why this file system
    size_t published_bytes = 0;
    size_t max_bytes = 0;
    std::string sysfs_root;        // credgate.ko's credentials directory
    bool sysfs_loaded = false;     // whether the module is loaded now
};

// A step of the wall clock (NTP; a host resumed from suspend) or a pause of credgated (SIGSTOP, a
// starved CPU), and what credgated did about it.
struct ClockEvent {
    TimePoint at{};       // when credgated noticed it, on the wall clock after the event
    std::string what;     // e.g. "the wall clock stepped back by 3600 s"
    std::string action;   // e.g. "every binding fetched a fresh secret"
};

struct DaemonSnapshot {
    std::string version;
    std::string revision;  // of the source credgated was built from
    long pid = 0;
    std::string config_path;
    std::string trust_domain;
    std::string node;
    std::string protection;          // "enforced", "insecure", "blocked"
    std::string protection_problem;  // why enforcement is unavailable
    std::string issuer_url;
    TimePoint issuer_key_created{};  // the current signing key: generated, or its key file written
    TimePoint started_at{};
    std::optional<ReloadOutcome> last_reload;
    // The last time the wall clock stepped or credgated did not run for a while (clock_jumps.cpp).
    std::optional<ClockEvent> last_clock_event;
    DeliverySnapshot delivery;
    std::vector<BindingSnapshot> bindings;
    // Tokens of bindings a reload stopped or restarted that Vault has not yet confirmed revoked.
    size_t stopped_revocations_pending = 0;
    // The kernel's audit decisions so far, by binding and verdict (none without enforcement).
    protection::AuditCounts audit_events;
};

struct IssuerSnapshot {
    std::string url;
    std::string discovery_url;
    std::string jwks_url;
    std::string algorithm;
    std::string current_kid;
    std::vector<std::string> published_kids;
    std::string public_key_pem;
    std::optional<std::string> key_file;
    std::chrono::seconds token_ttl{0};
    std::chrono::seconds key_rotation{0};
    std::vector<BindingSnapshot> bindings;
};

}  // namespace credgate::daemon
