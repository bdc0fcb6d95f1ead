// SPDX-License-Identifier: Apache-2.0
// The kernel rules of the running bindings: compiled and swapped at start and on reload, and
// followed as the units and cgroups they name start and stop (DESIGN §2), without a reload.
#pragma once

#include "common/result.hpp"
#include "policy/binding_definition.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace credgate::runtime {
class EventLoop;
}
namespace credgate::protection {
class CgroupWatch;
class Protection;
}  // namespace credgate::protection

namespace credgate::daemon {

class KernelRules {
public:
    // Follows units and cgroups when `protection` enforces. `loop` and `protection` must outlive it.
    KernelRules(runtime::EventLoop& loop, protection::Protection& protection);
    ~KernelRules();
    KernelRules(const KernelRules&) = delete;
    KernelRules& operator=(const KernelRules&) = delete;

    // Compiles and swaps the kernel rules for `definitions`; returns the bindings whose identity
    // cannot be compiled, as name -> reason. What their units and cgroups resolve to is taken
    // first, so a unit that starts or stops during the apply is followed afterwards.
    Result<std::map<std::string, std::string>> apply(const std::vector<policy::BindingDefinition>& definitions);
    // Stops following units and cgroups.
    void stop_following();
    // The definitions of the rules in the kernel (blocked bindings included).
    const std::vector<policy::BindingDefinition>& applied() const { return applied_; }

private:
    void watch_cgroups(runtime::EventLoop& loop);

    protection::Protection& protection_;
    std::vector<policy::BindingDefinition> applied_;  // the definitions of the rules in the kernel
    std::unique_ptr<protection::CgroupWatch> cgroup_watch_;  // absent when not enforcing
};

}  // namespace credgate::daemon
