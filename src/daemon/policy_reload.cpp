// SPDX-License-Identifier: Apache-2.0
// Reload, all or nothing (SIGHUP, `credgatectl reload`): a policy that does not load, resolve or
// compile changes nothing; otherwise removed and changed bindings stop, new ones start, and the
// unchanged keep running. Each reload first registers a credgated binary a package replaced.
#include "daemon/app_impl.hpp"

#include "common/log.hpp"
#include "daemon/diagnostic_report.hpp"
#include "policy/loader.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace credgate::daemon {
namespace {
constexpr const char* kComponent = "daemon";
}

ReloadOutcome AppImpl::refuse_reload(const ReloadOutcome& out, const std::string& why) {
    log::error(kComponent, "Failed to reload: {}; nothing changed", why);
    last_reload_ = out;
    return out;
}

ReloadOutcome AppImpl::reload() {
    ReloadOutcome out;
    out.at = loop_.clock().now();
    if (stopping_) {
        out.errors.push_back("credgated is shutting down");
        return out;
    }
    // A reload is also how a package upgrade tells the running credgated that its binary was
    // replaced: the new file is registered so that the new version can take over the pins.
    protection_->register_owners();
    log::info(kComponent, "Reloading the policies in '{}'", config_.policies_dir);
    // The settings file is checked too: a broken one fails the reload, a changed one is applied
    // only by a restart (listeners, keys and the delivery root cannot move under running bindings).
    auto cfg = policy::load_agent_config(options_.config_path);
    if (!cfg) {
        report_diagnostics(cfg.error(), &out);
        return refuse_reload(out, fmt::format("'{}' has {} error(s)", options_.config_path, out.errors.size()));
    }
    if (policy::config_fingerprint(cfg->value) != policy::config_fingerprint(config_)) {
        out.warnings.push_back(fmt::format("{}: changed settings take effect only when credgated restarts; "
                                           "the policies were reloaded with the running settings",
                                           options_.config_path));
        log::warning(kComponent, "'{}' changed: restart credgated to apply it; reloading the policies only",
                     options_.config_path);
    }
    auto pol = policy::load_policies({config_.policies_dir}, config_.trust_domain);
    if (!pol) {
        report_diagnostics(pol.error(), &out);
        return refuse_reload(out, fmt::format("the policy has {} error(s)", out.errors.size()));
    }
    report_diagnostics(pol->warnings, &out);
    auto defs = policy::resolve_bindings(pol->value, config_.trust_domain);
    if (!defs) {
        out.errors.push_back(defs.error().message);
        return refuse_reload(out, out.errors.back());
    }
    auto refused = rules_->apply(*defs);
    if (!refused) {
        out.errors.push_back("cannot apply the kernel rules: " + refused.error().message);
        return refuse_reload(out, out.errors.back());
    }

    std::map<std::string, std::string> running, loaded;
    for (const auto& [n, rt] : bindings_->running()) running[n] = rt->def.fingerprint;
    for (const auto& d : *defs) loaded[d.binding.meta.name] = d.fingerprint;
    out.plan = policy::plan_reload(running, loaded);
    for (const auto& n : out.plan.removed) {
        log::notice(bindings_->find(n)->log_fields(), kComponent,
                    "Binding '{}' was removed: revoking its token and removing its file", n);
        bindings_->stop(n, true, {});
    }
    for (const auto& n : out.plan.changed) {
        log::notice(bindings_->find(n)->log_fields(), kComponent, "Binding '{}' changed: restarting it", n);
        bindings_->stop(n, true, {});
    }
    for (auto& d : *defs) {
        const std::string n = d.binding.meta.name;
        if (bindings_->find(n)) {
            // Unchanged: keeps running untouched, unless it is blocked or waiting out a failure.
            bindings_->retry(std::move(d), *refused);
            continue;
        }
        // plan_reload lists names sorted: a search, not a scan per binding (10,000 bindings).
        if (std::binary_search(out.plan.added.begin(), out.plan.added.end(), n))
            log::notice(log::binding_fields(n, d.spiffe_id), kComponent, "Binding '{}' was added: starting it", n);
        bindings_->start(std::move(d), *refused);
    }
    out.ok = true;
    last_reload_ = out;
    log::notice(kComponent, "Reload done: {} started, {} restarted, {} stopped, {} unchanged", out.plan.added.size(),
                out.plan.changed.size(), out.plan.removed.size(), out.plan.unchanged.size());
    notifier_.status(
        fmt::format("{} binding(s); enforcement {}", bindings_->running().size(), to_string(protection_->mode())));
    return out;
}

}  // namespace credgate::daemon
