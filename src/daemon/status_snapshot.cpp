// SPDX-License-Identifier: Apache-2.0
// The status views of the running daemon (the control API's documents and /metrics render them):
// each binding, the daemon as a whole, and the issuer with what Vault needs to trust it.
#include "daemon/app_impl.hpp"

#include "daemon/build_info.hpp"  // changes with every commit: included only where needed
#include "identity/bound_programs.hpp"
#include "policy/values.hpp"
#include "protection/protection.hpp"

#include <unistd.h>

namespace credgate::daemon {

BindingSnapshot binding_snapshot(const BindingRuntime& rt) {
    BindingSnapshot s;
    s.definition = rt.def;
    s.propagation = std::string(policy::to_string(rt.backend));
    s.path = rt.path;
    for (auto& d : identity::replaceable_bound_programs(rt.def.identity)) s.warnings.push_back(std::move(d.message));
    if (!rt.blocked.empty()) {
        s.state = kBlockedState;
        s.message = rt.blocked;
        return s;
    }
    auto st = rt.engine->status();
    s.state = refresh::to_string(st.state);
    s.message = st.message;
    s.published = rt.ops->published();
    s.file_uid = rt.ops->file_uid();
    s.file_mode = rt.ops->file_mode();
    s.pinned_uid = rt.ops->owner().uid;
    s.vault_read_url = rt.ops->vault().read_url();
    s.lease_duration = rt.ops->last_lease_duration();
    s.token_ttl = rt.ops->last_token_ttl();
    s.engine = std::move(st);
    return s;
}

DaemonSnapshot AppImpl::status() const {
    DaemonSnapshot d;
    d.version = kVersion;
    d.revision = kRevision;
    d.pid = ::getpid();
    d.config_path = options_.config_path;
    d.trust_domain = config_.trust_domain;
    d.node = node_;
    d.protection = to_string(protection_->mode());
    d.protection_problem = protection_->problem();
    d.issuer_url = issuer_->issuer_url();
    d.issuer_key_created = issuer_->current_key_created();
    d.started_at = started_at_;
    d.last_reload = last_reload_;
    d.last_clock_event = last_clock_event_;
    d.delivery = sinks_->snapshot();
    for (const auto& [n, rt] : bindings_->running()) d.bindings.push_back(binding_snapshot(*rt));
    for (const auto& rt : bindings_->retired())
        if (rt->engine) d.stopped_revocations_pending += rt->engine->status().revocations_pending;
    d.audit_events = protection_->audit_counts();
    return d;
}

std::vector<policy::BindingDefinition> AppImpl::definitions() const {
    return rules_ ? rules_->applied() : std::vector<policy::BindingDefinition>{};
}

IssuerSnapshot AppImpl::issuer() const {
    IssuerSnapshot s;
    s.url = issuer_->issuer_url();
    s.discovery_url = s.url + issuer_->discovery_path();
    s.jwks_url = s.url + issuer_->jwks_path();
    s.algorithm = issuer_->algorithm();
    s.current_kid = issuer_->current_kid();
    s.published_kids = issuer_->published_kids();
    s.public_key_pem = issuer_->public_key_pem();
    s.key_file = config_.issuer.key_file;
    s.token_ttl = config_.issuer.token_ttl;
    s.key_rotation = config_.issuer.key_rotation;
    for (const auto& [n, rt] : bindings_->running()) s.bindings.push_back(binding_snapshot(*rt));
    return s;
}

}  // namespace credgate::daemon
