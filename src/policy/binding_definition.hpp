// SPDX-License-Identifier: Apache-2.0
// A binding's resolved definition (binding + its source + its identity) and the reload plan that
// compares running definitions with newly loaded ones: unchanged ones keep running untouched.
#pragma once

#include "common/result.hpp"
#include "policy/model.hpp"

#include <map>
#include <string>
#include <vector>

namespace credgate::policy {

// Everything one refresh engine needs, resolved from a PolicySet.
struct BindingDefinition {
    policy::CredentialBinding binding;
    policy::CredentialSource source;
    policy::WorkloadIdentity identity;
    std::string spiffe_id;      // spiffe://<trust domain>/<workload id>
    std::string workload_uuid;  // UUIDv5 of spiffe_id: the delivery directory
    // Canonical text of every field above that changes what the engine does; equal fingerprints
    // mean the binding can keep running across a reload.
    std::string fingerprint;
};

// Resolves every binding of `policies` (the loader has already checked the cross-references;
// a dangling one here is an internal error naming the binding). The copies carry no field_locations.
Result<std::vector<BindingDefinition>> resolve_bindings(const policy::PolicySet& policies,
                                                        const std::string& trust_domain);

// The canonical fingerprint of one definition (source locations are not part of it, so moving a
// document to another file or line changes nothing; nor is the order in which selector alternatives,
// the keys of one alternative or the values of one key are written, which means nothing).
std::string fingerprint(const policy::CredentialBinding& binding, const policy::CredentialSource& source,
                        const policy::WorkloadIdentity& identity, const std::string& spiffe_id);

// Canonical text of the agent settings a running credgated cannot change without a restart.
std::string config_fingerprint(const policy::AgentConfig& config);

struct ReloadPlan {
    std::vector<std::string> unchanged;  // keep running untouched
    std::vector<std::string> changed;    // stop (revoke, remove the file), then start the new one
    std::vector<std::string> added;      // start
    std::vector<std::string> removed;    // stop, revoke the token, remove the file
    bool empty_change() const { return changed.empty() && added.empty() && removed.empty(); }
};

// Binding name -> fingerprint, running and newly loaded. Each list comes out sorted by name.
ReloadPlan plan_reload(const std::map<std::string, std::string>& running,
                       const std::map<std::string, std::string>& loaded);

}  // namespace credgate::policy
