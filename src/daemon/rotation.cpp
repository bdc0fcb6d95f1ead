// SPDX-License-Identifier: Apache-2.0
// Rotation on an operator's request (`credgatectl rotate`): the binding's engine fetches a fresh
// secret as a scheduled rotation does; a BLOCKED binding says why it cannot, and the answer carries
// the binding's record once the new secret is delivered.
#include "daemon/app_impl.hpp"

namespace credgate::daemon {

void AppImpl::rotate(const std::string& binding, std::function<void(RotateOutcome)> done) {
    using R = RotateOutcome::Result;
    if (stopping_) return done({R::stopping, "credgated is shutting down", std::nullopt});
    BindingRuntime* rt = bindings_->find(binding);
    if (!rt) return done({R::no_such_binding, "", std::nullopt});
    if (!rt->engine) return done({R::blocked, rt->blocked, binding_snapshot(*rt)});
    // The runtime outlives its engine's callbacks: a stopped one is kept, retired, until shutdown.
    rt->engine->rotate([rt, done = std::move(done)](Result<void> r) {
        if (r)
            done({R::rotated, "", binding_snapshot(*rt)});
        else
            done({R::failed, r.error().message, binding_snapshot(*rt)});
    });
}

}  // namespace credgate::daemon
