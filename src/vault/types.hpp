// SPDX-License-Identifier: Apache-2.0
// What Vault returns for a login, a secret read and a lease renewal, validated and typed.
#pragma once

#include "vault/token.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace credgate::vault {

// The result of a call that returns nothing (204).
struct Empty {};

// `auth` of a login or a renew-self response.
struct LoginResult {
    Token token;                          // auth.client_token; never logged
    std::string accessor;                 // auth.accessor; safe to log
    std::chrono::seconds lease_duration{0};  // token TTL; 0 = no expiry (root-like tokens)
    bool renewable = false;
    int64_t num_uses = 0;                 // 0 = unlimited
    std::vector<std::string> policies;
    std::vector<std::string> warnings;
};

// A secret read (dynamic, KV v1 or KV v2).
struct SecretResult {
    // The data object as compact JSON. For KV v2 this is `data.data`, already unwrapped.
    std::string data_json;
    // Top-level members of that object whose value is a string (other types are only in data_json).
    std::map<std::string, std::string> string_fields;
    std::string lease_id;                 // empty for unleased secrets (KV)
    std::chrono::seconds lease_duration{0};
    bool renewable = false;
    bool is_kv2 = false;
    int64_t kv2_version = 0;              // data.metadata.version for KV v2
    std::vector<std::string> warnings;

    bool leased() const noexcept { return !lease_id.empty() && lease_duration.count() > 0; }
};

// A sys/leases/renew response.
struct LeaseRenewal {
    std::string lease_id;
    std::chrono::seconds lease_duration{0};
    bool renewable = false;
    std::vector<std::string> warnings;
};

}  // namespace credgate::vault
