// SPDX-License-Identifier: Apache-2.0
// Graceful stop (SIGTERM, SIGINT): every binding stops and, with revokeOnShutdown, revokes its
// tokens; revocations get until kShutdownTimeout, then what is left is named and the loop stops.
// Within an armed handover window (handover.cpp) the files and current tokens are left instead.
#include "daemon/app_impl.hpp"

#include "common/log.hpp"
#include "http/server.hpp"
#include "issuer/issuer_service.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

#include <optional>
#include <vector>

namespace credgate::daemon {
namespace {
constexpr const char* kComponent = "daemon";
}

void AppImpl::shutdown() {
    if (stopping_) return;
    stopping_ = true;
    handing_over_ = handover_window_.take(loop_.clock().now());
    const bool revoke = config_.revoke_on_shutdown;
    if (handing_over_)
        log::notice(kComponent, "Stopping for a handover (credgatectl handover): keeping every credential file and "
                                "current login token for the next credgated");
    else
        log::notice(kComponent, "Stopping: {} every token, removing every credential file",
                    revoke ? "revoking" : "not revoking (revokeOnShutdown: false)");
    notifier_.stopping("stopping");
    if (control_) control_->close();
    std::vector<std::string> names;
    for (const auto& [n, rt] : bindings_->running()) names.push_back(n);
    // Bindings stopped by a reload may still be retrying revocations: they are waited for too.
    std::vector<refresh::Engine*> earlier;
    for (const auto& rt : bindings_->retired())
        if (rt->engine && rt->engine->status().revocations_pending > 0) earlier.push_back(rt->engine.get());
    pending_stops_ = names.size() + earlier.size() + 1;
    for (auto* engine : earlier) engine->stop(revoke, [this] { stop_done(); });
    for (const auto& n : names) {
        if (!handing_over_) {
            bindings_->stop(n, revoke, [this] { stop_done(); });
            continue;
        }
        // Named by accessor, lease and expiry (never the token): the next credgated does not know these
        // tokens; they end at their expiry, or an operator revokes them by accessor.
        const BindingRuntime* rt = bindings_->find(n);
        if (auto token = rt->engine ? rt->engine->describe_current() : std::nullopt)
            log::notice(rt->log_fields(), kComponent,
                        "Handing over binding '{}': its file '{}' and its login token ({}) are left for the next "
                        "credgated",
                        n, rt->path, *token);
        bindings_->hand_over(n, [this] { stop_done(); });
    }
    shutdown_timer_ = loop_.clock().make_timer();
    shutdown_timer_->arm(loop_.clock().now() + kShutdownTimeout, [this] {
        // Named by accessor and lease (never the token), so an operator can revoke them by hand.
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(kShutdownTimeout).count();
        for (const auto& rt : bindings_->retired())
            if (rt->engine)
                for (const auto& token : rt->engine->unrevoked())
                    log::error(rt->log_fields(), kComponent,
                               "Failed to revoke a login token of binding '{}' within the {} s shutdown deadline "
                               "({}); exiting with it still valid",
                               rt->def.binding.meta.name, secs, token);
        finish();
    });
    stop_done();
}

void AppImpl::stop_done() {
    if (pending_stops_ > 0 && --pending_stops_ == 0) {
        // Every binding stopped and removed its files in time: nothing is left to protect there.
        // A handover left them to the next credgated: they stay protected.
        if (!handing_over_) protection_->release_root();
        finish();
    }
}

void AppImpl::finish() {
    if (finished_) return;
    finished_ = true;
    if (!handing_over_) bindings_->unpublish_retired();
    shutdown_timer_->cancel();
    if (audit_) audit_->stop();
    issuer_service_.reset();
    metrics_.reset();
    log::notice(kComponent, "Stopped");
    loop_.stop();
}

}  // namespace credgate::daemon
