// SPDX-License-Identifier: Apache-2.0
// DaemonBindingOps: JWT-SVID minting per binding, Vault calls, rendering and atomic delivery.
#include "daemon/binding_ops.hpp"

#include "common/log.hpp"
#include "delivery/output.hpp"
#include "protection/file_owner.hpp"

namespace credgate::daemon {
namespace {
constexpr const char* kComponent = "daemon";
}

DaemonBindingOps::DaemonBindingOps(const policy::BindingDefinition& d, vault::VaultClient vault, issuer::Issuer& issuer,
                                   delivery::Sink& sink)
    : VaultOps(std::move(vault)),
      name_(d.binding.meta.name),
      output_(d.binding.output),
      spiffe_id_(d.spiffe_id),
      log_fields_(log::binding_fields(name_, spiffe_id_)),
      audience_(d.source.vault.audience),
      issuer_(issuer),
      sink_(sink),
      target_{d.workload_uuid, d.binding.meta.name, d.binding.output.file_name},
      owner_{protection::pinned_uid(d.identity, protection::system_user)} {}

Result<std::string> DaemonBindingOps::mint_jwt() {
    issuer::MintRequest req;
    req.subject = spiffe_id_;
    req.audience = audience_;
    req.extra = {{"binding", name_}};
    auto t = issuer_.mint(req);
    if (!t) return fail(t.error());
    log::debug(log_fields_, kComponent, "Minted JWT-SVID for binding '{}' (kid '{}', jti '{}')", name_, t->kid, t->jti);
    return std::move(t->jwt);
}

void DaemonBindingOps::login(const std::string& jwt, refresh::Callback<vault::LoginResult> done) {
    VaultOps::login(jwt, [this, done = std::move(done)](vault::VaultResult<vault::LoginResult> r) {
        if (r) last_token_ttl_ = r->lease_duration;
        done(std::move(r));
    });
}

void DaemonBindingOps::read(const vault::Token& token, bool fresh, refresh::Callback<vault::SecretResult> done) {
    VaultOps::read(
        token, fresh,
        [this, done = std::move(done)](vault::VaultResult<vault::SecretResult> r) {
            if (r) last_lease_ = r->lease_duration;
            done(std::move(r));
        });
}

Result<void> DaemonBindingOps::publish(const vault::SecretResult& secret) {
    auto bytes = delivery::render(output_, secret.data_json, secret.string_fields);
    if (!bytes) return fail(bytes.error());
    // A failure is the engine's to log: it decides whether and when to try again.
    auto p = sink_.publish(target_, *bytes, owner_);
    if (!p) return fail(p.error());
    published_ = true;
    file_uid_ = p->uid;
    file_mode_ = p->mode;
    log::info(log_fields_, kComponent, "Published '{}' for binding '{}' (inode {}, uid {}, mode {:04o})", p->path,
              name_, p->id.inode, p->uid, p->mode);
    return {};
}

void DaemonBindingOps::unpublish() {
    if (auto r = sink_.remove(target_.workload_uuid, target_.binding); !r)
        log::error(log_fields_, kComponent, "Failed to remove the files of binding '{}': {}", name_, r.error().message);
    else if (published_)
        log::info(log_fields_, kComponent, "Removed '{}'", sink_.path_of(target_));
    published_ = false;
}

}  // namespace credgate::daemon
