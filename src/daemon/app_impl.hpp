// SPDX-License-Identifier: Apache-2.0
// The running daemon behind App, one concern per file: start-up (startup.cpp), reload
// (policy_reload.cpp), rotation on request (rotation.cpp), a package upgrade's handover (handover.cpp),
// shutdown (shutdown.cpp) and the status views (status_snapshot.cpp).
#pragma once

#include "daemon/app.hpp"
#include "daemon/audit_feed.hpp"
#include "daemon/audit_poll.hpp"
#include "daemon/binding_set.hpp"
#include "daemon/delivery_sinks.hpp"
#include "daemon/handover_window.hpp"
#include "daemon/kernel_rules.hpp"
#include "daemon/notify.hpp"
#include "policy/model.hpp"
#include "runtime/clock_watch.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace credgate::http {
class Server;
}
namespace credgate::issuer {
class IssuerService;
}
namespace credgate::protection {
class Protection;
}

namespace credgate::daemon {

// The view of one binding the control API and the metrics render (status_snapshot.cpp).
BindingSnapshot binding_snapshot(const BindingRuntime& runtime);

class AppImpl final : public App {
public:
    AppImpl(runtime::EventLoop& loop, AppOptions options);
    ~AppImpl() override;

    // Start-up stops at the first failure, logged where what failed is known; main only exits.
    Result<void> init();

    DaemonSnapshot status() const override;
    IssuerSnapshot issuer() const override;
    ReloadOutcome reload() override;
    void rotate(const std::string& binding, std::function<void(RotateOutcome)> done) override;
    HandoverOutcome handover() override;
    void shutdown() override;
    std::vector<policy::BindingDefinition> definitions() const override;
    const protection::Protection& protection() const override { return *protection_; }
    AuditFeed& audit() override { return audit_feed_; }

private:
    Result<void> serve_metrics();
    void handle_signals();
    // Logs why a reload changed nothing, keeps it as the last reload and returns it.
    ReloadOutcome refuse_reload(const ReloadOutcome& outcome, const std::string& why);
    void stop_done();
    void finish();
    // A step of the wall clock or a pause of credgated: every binding fetches afresh (clock_jumps.cpp).
    void on_clock_jump(const runtime::ClockJump& jump);
    void refetch_after_clock_jump();

    runtime::EventLoop& loop_;
    AppOptions options_;
    Notifier notifier_;
    policy::AgentConfig config_;
    std::string node_;
    TimePoint started_at_{};
    AuditFeed audit_feed_;  // the kernel's recent decisions, for credgatectl audit

    // Declared in the order they start; destroyed in reverse.
    std::unique_ptr<protection::Protection> protection_;
    std::unique_ptr<KernelRules> rules_;
    std::unique_ptr<issuer::Issuer> issuer_;
    std::unique_ptr<issuer::IssuerService> issuer_service_;
    std::unique_ptr<DeliverySinks> sinks_;
    std::unique_ptr<BindingSet> bindings_;
    std::unique_ptr<http::Server> control_;
    std::unique_ptr<http::Server> metrics_;
    std::unique_ptr<AuditPoll> audit_;  // only while enforcing

    std::optional<ReloadOutcome> last_reload_;

    std::unique_ptr<runtime::ClockWatch> clock_watch_;
    std::optional<ClockEvent> last_clock_event_;
    std::unique_ptr<Timer> clock_refetch_timer_;          // a re-fetch held back by kClockRefetchSpacing
    std::optional<std::chrono::steady_clock::time_point> last_clock_refetch_;

    // Shutdown: bindings still stopping, and the deadline for their revocations.
    HandoverWindow handover_window_;
    bool handing_over_ = false;  // this stop keeps the files and current tokens for the next credgated
    bool stopping_ = false;
    bool finished_ = false;
    size_t pending_stops_ = 0;
    std::unique_ptr<Timer> shutdown_timer_;
};

}  // namespace credgate::daemon
