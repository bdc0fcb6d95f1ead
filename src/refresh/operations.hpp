// SPDX-License-Identifier: Apache-2.0
// The operations a refresh engine drives, implemented by the daemon over VaultClient, the issuer
// and a delivery Sink. Keeping them abstract makes the engine pure scheduling logic.
#pragma once

#include "common/result.hpp"
#include "vault/error.hpp"
#include "vault/types.hpp"

#include <functional>
#include <string>

namespace credgate::refresh {

template <typename T>
using Callback = std::function<void(vault::VaultResult<T>)>;

class BindingOps {
public:
    virtual ~BindingOps() = default;
    // A fresh JWT-SVID for the binding's workload and audience.
    virtual Result<std::string> mint_jwt() = 0;
    // Completions may run synchronously or later on the event loop; the engine handles both.
    virtual void login(const std::string& jwt, Callback<vault::LoginResult> done) = 0;
    // `fresh_token`: the token was obtained by the login just before (sharpens error wording).
    virtual void read(const vault::Token& token, bool fresh_token, Callback<vault::SecretResult> done) = 0;
    virtual void renew_self(const vault::Token& token, Callback<vault::LoginResult> done) = 0;
    virtual void renew_lease(const vault::Token& token, const std::string& lease_id,
                             Callback<vault::LeaseRenewal> done) = 0;
    virtual void revoke_self(const vault::Token& token, Callback<vault::Empty> done) = 0;
    // Renders and delivers the secret atomically (replacing the previous one).
    virtual Result<void> publish(const vault::SecretResult& secret) = 0;
    // Removes the delivered file.
    virtual void unpublish() = 0;
};

}  // namespace credgate::refresh
