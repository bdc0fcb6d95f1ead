// SPDX-License-Identifier: Apache-2.0
// Forwarding of the engine's Vault operations to VaultClient.
#include "refresh/vault_ops.hpp"

namespace credgate::refresh {

void VaultOps::login(const std::string& jwt, Callback<vault::LoginResult> done) {
    client_.login(jwt, std::move(done));
}

void VaultOps::read(const vault::Token& token, bool fresh_token, Callback<vault::SecretResult> done) {
    client_.read(token, std::move(done), fresh_token);
}

void VaultOps::renew_self(const vault::Token& token, Callback<vault::LoginResult> done) {
    client_.renew_self(token, std::nullopt, std::move(done));
}

void VaultOps::renew_lease(const vault::Token& token, const std::string& lease_id,
                           Callback<vault::LeaseRenewal> done) {
    client_.renew_lease(token, lease_id, std::nullopt, std::move(done));
}

void VaultOps::revoke_self(const vault::Token& token, Callback<vault::Empty> done) {
    client_.revoke_self(token, std::move(done));
}

}  // namespace credgate::refresh
