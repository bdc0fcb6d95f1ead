// SPDX-License-Identifier: Apache-2.0
// The Vault half of BindingOps over a VaultClient. The daemon derives from it and adds JWT minting
// (issuer) and publishing (render + Sink).
#pragma once

#include "refresh/operations.hpp"
#include "vault/vault_client.hpp"

namespace credgate::refresh {

class VaultOps : public BindingOps {
public:
    explicit VaultOps(vault::VaultClient client) : client_(std::move(client)) {}

    void login(const std::string& jwt, Callback<vault::LoginResult> done) override;
    void read(const vault::Token& token, bool fresh_token, Callback<vault::SecretResult> done) override;
    // Without an increment: Vault applies the role's token_ttl (capped by token_max_ttl).
    void renew_self(const vault::Token& token, Callback<vault::LoginResult> done) override;
    // Without an increment: Vault applies the secret's default TTL (capped by its max TTL).
    void renew_lease(const vault::Token& token, const std::string& lease_id,
                     Callback<vault::LeaseRenewal> done) override;
    void revoke_self(const vault::Token& token, Callback<vault::Empty> done) override;

protected:
    vault::VaultClient& client() noexcept { return client_; }
    const vault::VaultClient& client() const noexcept { return client_; }

private:
    vault::VaultClient client_;
};

}  // namespace credgate::refresh
