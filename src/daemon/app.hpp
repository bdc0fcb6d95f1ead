// SPDX-License-Identifier: Apache-2.0
// credgated's wiring: loads the policy, starts the issuer, the sink, one refresh engine per binding
// and the control API on one event loop; reloads all-or-nothing, rotates on request, stops gracefully.
#pragma once

#include "common/result.hpp"
#include "daemon/snapshot.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace credgate::runtime {
class EventLoop;
}
namespace credgate::protection {
class Protection;
}

namespace credgate::daemon {

class AuditFeed;

struct AppOptions {
    std::string config_path;
    bool insecure_no_enforcement = false;
};

// After SIGTERM, revocations that have not answered by then are abandoned (tokens then expire).
inline constexpr Duration kShutdownTimeout{std::chrono::seconds{15}};

class App {
public:
    // Loads settings and policies (every diagnostic is logged on failure), then starts every part.
    // A failure is logged once, naming the failing part; the caller only exits. Nothing is left running.
    static Result<std::unique_ptr<App>> create(runtime::EventLoop& loop, AppOptions options);
    virtual ~App() = default;

    virtual DaemonSnapshot status() const = 0;
    virtual IssuerSnapshot issuer() const = 0;
    // All or nothing: a policy that does not load changes nothing.
    virtual ReloadOutcome reload() = 0;
    // Fetches a fresh secret for `binding` now, exactly as a scheduled rotation does (new login, new
    // secret, delivery, the previous token revoked after revokeGrace); `done` runs once it ended.
    virtual void rotate(const std::string& binding, std::function<void(RotateOutcome)> done) = 0;
    // Prepares a package upgrade's restart: registers the executable now at credgated's path and
    // arms the handover window (handover_window.hpp). All or nothing: when the executable cannot be
    // registered, no window is armed.
    virtual HandoverOutcome handover() = 0;
    // Graceful stop: revokes (revokeOnShutdown), removes files, then stops the loop. Within an armed
    // handover window it keeps the credential files and current tokens for the next credgated.
    virtual void shutdown() = 0;

    // For credgatectl identities, explain and audit: the definitions whose rules are applied (blocked
    // bindings included), the kernel gate, and the kernel's recent decisions.
    virtual std::vector<policy::BindingDefinition> definitions() const = 0;
    virtual const protection::Protection& protection() const = 0;
    virtual AuditFeed& audit() = 0;
};

}  // namespace credgate::daemon
