// SPDX-License-Identifier: Apache-2.0
// The loaded policy as plain data: agent settings (credgate.yaml) and the four resource kinds.
// Tests build these structs in code; nothing here knows about YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace credgate::policy {

inline constexpr const char* kApiVersion = "credgate.io/v1alpha1";

// Where a value came from, for error messages (1-based line and column; 0 when built in code).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

// Field path ("spec.vault.address", "spec.selectors[0].process:uid[1]") -> where its value was written.
using FieldLocations = std::map<std::string, SourceLocation>;

struct ObjectMeta {
    std::string name;
    std::map<std::string, std::string> labels;
    SourceLocation location;  // of the document
    FieldLocations field_locations;  // filled by the loader; empty when built in code
};

// ---- Agent settings: /etc/credgate/credgate.yaml ------------------------------------------

enum class SigningAlgorithm { es256, rs256, eddsa };
// delivery.backend in the settings and a binding's `propagation`; auto_select is never a chosen backend.
enum class DeliveryBackend { auto_select, sysfs, file };
enum class EnforcementMode { enforce, audit };

struct IssuerSettings {
    std::string url;                       // `iss` and the discovery document's issuer, exactly
    std::string listen = "127.0.0.1:8421"; // host:port the issuer endpoints are served on
    std::optional<std::string> tls_cert;   // PEM files; HTTPS when both are set
    std::optional<std::string> tls_key;
    SigningAlgorithm algorithm = SigningAlgorithm::es256;
    std::chrono::seconds token_ttl{300};
    std::chrono::seconds key_rotation{24 * 3600};
    std::optional<std::string> key_file;   // opt-in persisted key for jwt_validation_pubkeys setups
};

struct DeliverySettings {
    DeliveryBackend backend = DeliveryBackend::auto_select;
    std::string file_root = "/run/credgate/credentials";
    std::string sysfs_root = "/sys/module/credgate/credentials";
};

struct EnforcementSettings {
    EnforcementMode mode = EnforcementMode::enforce;
    std::string pin_dir = "/sys/fs/bpf/credgate";
    // Further executables whose root processes are credgated (credgated's own always is): e.g. a
    // tool that must see credgate's BPF programs. Registered at start and again on each reload.
    std::vector<std::string> owner_executables;
};

struct ControlSettings {
    std::string socket = "/run/credgate/control.sock";
};

struct MetricsSettings {
    std::optional<std::string> listen;  // host:port; no metrics endpoint when unset
};

struct AgentConfig {
    std::string trust_domain;
    std::string node;  // empty: the daemon uses the host name
    IssuerSettings issuer;
    DeliverySettings delivery;
    EnforcementSettings enforcement;
    ControlSettings control;
    MetricsSettings metrics;
    std::string policies_dir = "/etc/credgate/policies.d";
    bool revoke_on_shutdown = true;
    SourceLocation location;
    FieldLocations field_locations;  // filled by the loader; empty when built in code
};

// ---- WorkloadIdentity ---------------------------------------------------------------------

enum class SelectorKey {
    process_path,    // executed file (the script for #! programs), by device+inode
    process_sha256,  // content hash of that file
    process_uid,
    process_gid,
    process_user,
    process_group,
    systemd_unit,
    cgroup_path,
    process_name,    // comm: spoofable, only AND-ed with a strong key
};

// One key with its accepted values (any of them matches).
struct SelectorTerm {
    SelectorKey key;
    std::vector<std::string> values;
    SourceLocation location;
};

// Every term must match (AND).
struct SelectorAlternative {
    std::vector<SelectorTerm> terms;
    SourceLocation location;
};

struct WorkloadIdentity {
    ObjectMeta meta;
    std::string workload_id;                      // path under the trust domain, e.g. "ai-agent"
    std::vector<SelectorAlternative> selectors;   // any alternative matches (OR)
    bool allow_weak_selectors = false;
};

// ---- CredentialSource ---------------------------------------------------------------------

struct VaultSource {
    std::string address;                    // http(s)://host[:port]
    std::optional<std::string> ca_file;
    std::optional<std::string> namespace_;  // X-Vault-Namespace
    std::string jwt_auth_method_path = "jwt";
    std::string role;
    std::string path;                       // API path without /v1/, e.g. openai/creds/my-role
    std::vector<std::string> audience;      // JWT `aud`
    std::string method = "GET";
    std::map<std::string, std::string> params;  // sent as query parameters on the read
};

struct CredentialSource {
    ObjectMeta meta;
    VaultSource vault;
};

// ---- CredentialBinding --------------------------------------------------------------------

enum class OutputFormat {
    json,  // the secret's data object (KV v2: data.data) as one JSON document
    raw,   // the single string field named by `field`
    env,   // KEY=value lines, one per top-level string field
};

struct BindingOutput {
    std::string file_name = "vault.json";
    OutputFormat format = OutputFormat::json;
    std::optional<std::string> field;  // required for raw
};

struct RefreshTuning {
    // Fraction window of a non-renewable lease after which a new secret is fetched.
    double lease_fraction_min = 0.80;
    double lease_fraction_max = 0.90;
    std::chrono::seconds min_lead{30};       // never refresh later than this before expiry
    std::chrono::seconds static_interval{300};  // re-read period for unleased (KV) secrets
    std::chrono::seconds revoke_grace{30};   // old token lives this long after a new publish
};

struct CredentialBinding {
    ObjectMeta meta;
    std::string workload_id;
    std::string credential_source;
    DeliveryBackend propagation = DeliveryBackend::auto_select;
    BindingOutput output;
    RefreshTuning refresh;
};

// ---- Service ------------------------------------------------------------------------------

struct ServiceAddress {
    std::string address;
    uint16_t port = 0;
};

struct Service {
    ObjectMeta meta;
    std::vector<ServiceAddress> addresses;
    std::map<std::string, std::string> labels;
    bool external = false;
};

// ---- The whole policy ---------------------------------------------------------------------

struct PolicySet {
    std::vector<WorkloadIdentity> identities;
    std::vector<CredentialSource> sources;
    std::vector<CredentialBinding> bindings;
    std::vector<Service> services;

    const WorkloadIdentity* identity_by_workload_id(const std::string& id) const {
        for (const auto& i : identities)
            if (i.workload_id == id) return &i;
        return nullptr;
    }
    const CredentialSource* source(const std::string& name) const {
        for (const auto& s : sources)
            if (s.meta.name == name) return &s;
        return nullptr;
    }
};

}  // namespace credgate::policy
