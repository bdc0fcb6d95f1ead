// SPDX-License-Identifier: Apache-2.0
// Follows the cgroups that systemd:unit and cgroup:path selectors name as units start and stop:
// inotify on the cgroup2 root and its slices, and a re-applied rule set when one changes.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"
#include "identity/host_resolver.hpp"
#include "policy/binding_definition.hpp"
#include "policy/model.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace credgate::runtime {
class EventLoop;
}

namespace credgate::protection {

// Events are gathered this long before the rules are recompiled (systemd makes a unit's cgroup and
// then moves its processes in; a burst of units starting at boot is one recompile).
inline constexpr Duration kCgroupChangeDebounce{100};
// After a failed apply, the next attempt.
inline constexpr Duration kCgroupApplyRetry{std::chrono::seconds{2}};
// inotify watches: the root, every slice, and the ancestors of cgroup:path selectors.
inline constexpr size_t kMaxWatchedCgroupDirectories = 4096;

// One systemd:unit or cgroup:path value and the WorkloadIdentities that name it.
struct WatchedCgroup {
    policy::SelectorKey key = policy::SelectorKey::systemd_unit;
    std::string value;                    // as written in the policy
    std::vector<std::string> identities;  // names, sorted
};

// Every systemd:unit and cgroup:path value in the bindings' identities, once each.
std::vector<WatchedCgroup> watched_cgroups(const std::vector<policy::BindingDefinition>& bindings);

// What a selector resolved to; no id when nothing (no unit of the system manager, no such cgroup).
struct CgroupResolution {
    std::optional<uint64_t> id;
    std::string path;  // relative to the cgroup2 root
};
// Keyed by "<selector key> <value>".
using CgroupBaseline = std::map<std::string, CgroupResolution>;

// A selector whose cgroup appeared, disappeared or was replaced (a restarted unit: a new cgroup id).
struct CgroupChange {
    WatchedCgroup selector;
    CgroupResolution before;
    CgroupResolution after;
};
// The log line for a change: which unit or cgroup, what happened, and which identities follow it.
std::string describe(const CgroupChange& change);

struct CgroupWatchOptions {
    std::string cgroup_root = identity::kCgroupRoot;
    Duration debounce = kCgroupChangeDebounce;
    Duration retry = kCgroupApplyRetry;
};

class CgroupWatch {
public:
    // Recompiles and swaps the kernel rules; `changes` are what made it necessary.
    using Apply = std::function<Result<void>(const std::vector<CgroupChange>& changes)>;

    // Opens inotify and watches the root; follows nothing until follow(). Errors name the root.
    static Result<std::unique_ptr<CgroupWatch>> create(runtime::EventLoop& loop, Clock& clock, CgroupWatchOptions options,
                                                       Apply apply);
    ~CgroupWatch();
    CgroupWatch(const CgroupWatch&) = delete;
    CgroupWatch& operator=(const CgroupWatch&) = delete;

    // What the selectors resolve to now. Take it *before* applying rules compiled from them, so that
    // any change after it is seen as one by follow() or by a later event.
    CgroupBaseline resolve(const std::vector<WatchedCgroup>& selectors) const;
    // After rules compiled from `selectors` were applied: watch what they name, and recompile when
    // what they resolve to differs from `baseline` (after the debounce, if it already does).
    void follow(std::vector<WatchedCgroup> selectors, CgroupBaseline baseline);

    // For tests: a change waits for the debounce (or retry) timer.
    bool pending() const;
    size_t watched_directories() const;

private:
    struct Impl;
    explicit CgroupWatch(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace credgate::protection
