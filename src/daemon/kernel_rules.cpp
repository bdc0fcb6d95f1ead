// SPDX-License-Identifier: Apache-2.0
// KernelRules: the rule swap for a set of bindings and the cgroup watch that re-applies it.
#include "daemon/kernel_rules.hpp"

#include "common/log.hpp"
#include "protection/cgroup_watch.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

namespace credgate::daemon {

KernelRules::KernelRules(runtime::EventLoop& loop, protection::Protection& protection) : protection_(protection) {
    if (protection_.mode() == protection::ProtectionMode::enforced) watch_cgroups(loop);
}

KernelRules::~KernelRules() = default;

void KernelRules::stop_following() { cgroup_watch_.reset(); }

void KernelRules::watch_cgroups(runtime::EventLoop& loop) {
    auto watch = protection::CgroupWatch::create(
        loop, loop.clock(), {}, [this](const std::vector<protection::CgroupChange>&) {
            auto refused = protection_.apply(applied_);
            return refused ? Result<void>{} : Result<void>(fail(refused.error()));
        });
    if (!watch) {
        log::error("daemon",
                   "Failed to follow units and cgroups as they start and stop: {}; the rules change only on reload",
                   watch.error().message);
        return;
    }
    cgroup_watch_ = std::move(*watch);
}

Result<std::map<std::string, std::string>> KernelRules::apply(
    const std::vector<policy::BindingDefinition>& definitions) {
    auto selectors = protection::watched_cgroups(definitions);
    protection::CgroupBaseline baseline;
    if (cgroup_watch_) baseline = cgroup_watch_->resolve(selectors);
    auto refused = protection_.apply(definitions);
    if (!refused) return refused;
    applied_ = definitions;
    if (cgroup_watch_) cgroup_watch_->follow(std::move(selectors), std::move(baseline));
    return refused;
}

}  // namespace credgate::daemon
