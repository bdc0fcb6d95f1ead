// SPDX-License-Identifier: Apache-2.0
// The refresh engine's operations for one binding, over the Vault client, the issuer and the
// delivery sink (with the kernel registration of every new file done by the sink's hook).
#pragma once

#include "common/log.hpp"
#include "delivery/sink.hpp"
#include "issuer/issuer.hpp"
#include "policy/binding_definition.hpp"
#include "refresh/vault_ops.hpp"
#include "vault/vault_client.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace credgate::daemon {

class DaemonBindingOps final : public refresh::VaultOps {
public:
    DaemonBindingOps(const policy::BindingDefinition& definition, vault::VaultClient vault, issuer::Issuer& issuer,
                     delivery::Sink& sink);

    Result<std::string> mint_jwt() override;
    void login(const std::string& jwt, refresh::Callback<vault::LoginResult> done) override;
    void read(const vault::Token& token, bool fresh_token, refresh::Callback<vault::SecretResult> done) override;
    Result<void> publish(const vault::SecretResult& secret) override;
    void unpublish() override;

    const delivery::Target& target() const noexcept { return target_; }
    // The file's owner: the uid the identity pins, if it pins exactly one.
    const delivery::Ownership& owner() const noexcept { return owner_; }
    std::string path() const { return sink_.path_of(target_); }
    bool published() const noexcept { return published_; }
    // Owner and mode of the file as last published.
    uint32_t file_uid() const noexcept { return file_uid_; }
    uint32_t file_mode() const noexcept { return file_mode_; }
    // Lease TTL of the last secret read (0 when unleased or nothing read yet).
    std::chrono::seconds last_lease_duration() const noexcept { return last_lease_; }
    std::chrono::seconds last_token_ttl() const noexcept { return last_token_ttl_; }
    const vault::VaultClient& vault() const noexcept { return client(); }

private:
    std::string name_;
    policy::BindingOutput output_;
    std::string spiffe_id_;
    log::Fields log_fields_;  // CREDGATE_BINDING and SPIFFE_ID
    std::vector<std::string> audience_;
    issuer::Issuer& issuer_;
    delivery::Sink& sink_;
    delivery::Target target_;
    delivery::Ownership owner_;
    bool published_ = false;
    uint32_t file_uid_ = 0;
    uint32_t file_mode_ = 0;
    std::chrono::seconds last_lease_{0};
    std::chrono::seconds last_token_ttl_{0};
};

}  // namespace credgate::daemon
