// SPDX-License-Identifier: Apache-2.0
// Start-up of credgated, in order: settings and policies, the publish gate and kernel rules, the
// issuer, delivery, the control socket and /metrics, then the bindings, signals and READY=1.
#include "daemon/app_impl.hpp"

#include "common/log.hpp"
#include "daemon/build_info.hpp"  // changes with every commit: included only where needed
#include "daemon/control_api.hpp"
#include "daemon/control_request.hpp"
#include "daemon/diagnostic_report.hpp"
#include "daemon/metrics.hpp"
#include "http/server.hpp"
#include "issuer/issuer_service.hpp"
#include "policy/loader.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

namespace credgate::daemon {
namespace {

constexpr const char* kComponent = "daemon";

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

Result<void> ensure_parent_dir(const std::string& path) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (parent.empty() || std::filesystem::is_directory(parent, ec)) return {};
    std::filesystem::create_directories(parent, ec);
    if (ec)
        return fail(ErrorKind::config, fmt::format("cannot create directory '{}': {}", parent.string(), ec.message()));
    ::chmod(parent.c_str(), 0755);
    return {};
}

std::unexpected<Error> refuse(const Error& error, std::string_view what) {
    log::error(kComponent, "Failed to {}: {}", what, error.message);
    return fail(error);
}

// Every finding is logged; then the start-up fails naming the file.
std::unexpected<Error> refuse(const std::vector<policy::Diagnostic>& problems, std::string_view what) {
    report_diagnostics(problems);
    return refuse({ErrorKind::config, fmt::format("{} problem(s), see above", problems.size())}, what);
}

}  // namespace

AppImpl::AppImpl(runtime::EventLoop& loop, AppOptions options)
    : loop_(loop), options_(std::move(options)), notifier_(loop.clock()), audit_feed_(loop.clock()) {}

AppImpl::~AppImpl() {
    if (rules_) rules_->stop_following();
    control_.reset();
    metrics_.reset();
    bindings_.reset();
}

Result<void> AppImpl::init() {
    auto cfg = policy::load_agent_config(options_.config_path);
    if (!cfg) return refuse(cfg.error(), fmt::format("load '{}'", options_.config_path));
    report_diagnostics(cfg->warnings);
    config_ = std::move(cfg->value);
    node_ = config_.node.empty() ? host_name() : config_.node;

    auto pol = policy::load_policies({config_.policies_dir}, config_.trust_domain);
    if (!pol) return refuse(pol.error(), fmt::format("load the policies in '{}'", config_.policies_dir));
    report_diagnostics(pol->warnings);
    auto defs = policy::resolve_bindings(pol->value, config_.trust_domain);
    if (!defs) return refuse(defs.error(), fmt::format("resolve the bindings in '{}'", config_.policies_dir));

    protection_ = protection::Protection::create(config_, options_.insecure_no_enforcement, loop_.clock());
    protection_->on_audit([this](const std::string& line) { audit_feed_.add(line); });
    rules_ = std::make_unique<KernelRules>(loop_, *protection_);

    issuer::IssuerOptions io{config_.issuer, config_.trust_domain, node_};
    auto iss = issuer::Issuer::create(io, loop_.clock());
    if (!iss) return refuse(iss.error(), "start the issuer");
    issuer_ = std::move(*iss);
    auto svc = issuer::IssuerService::create(loop_, *issuer_, config_.issuer);
    if (!svc) return refuse(svc.error(), fmt::format("serve the issuer on '{}'", config_.issuer.listen));
    issuer_service_ = std::move(*svc);
    log::info(kComponent, "Issuer '{}' serving on port {}", issuer_->issuer_url(), issuer_service_->port());

    auto sinks = DeliverySinks::create(config_.delivery, *protection_);
    if (!sinks) return refuse(sinks.error(), "set up file delivery");
    sinks_ = std::move(*sinks);
    bindings_ = std::make_unique<BindingSet>(BindingContext{loop_, *protection_, *issuer_, *sinks_});

    if (auto r = ensure_parent_dir(config_.control.socket); !r)
        return refuse(r.error(), fmt::format("open the control socket '{}'", config_.control.socket));
    http::ServerOptions co;
    co.listen = config_.control.socket;
    co.max_body_bytes = kControlMaxBodyBytes;
    auto ctl = http::Server::create(loop_, co, control_handler(*this, loop_.clock()));
    if (!ctl) return refuse(ctl.error(), fmt::format("open the control socket '{}'", config_.control.socket));
    control_ = std::move(*ctl);

    if (auto r = serve_metrics(); !r) return r;

    started_at_ = loop_.clock().now();
    auto refused = rules_->apply(*defs);
    if (!refused) return refuse(refused.error(), "apply the kernel rules");
    sinks_->clear_leftover_files(*defs);
    for (auto& d : *defs) bindings_->start(std::move(d), *refused);

    handle_signals();
    clock_watch_ = std::make_unique<runtime::ClockWatch>(loop_, [this](const runtime::ClockJump& j) { on_clock_jump(j); });
    if (protection_->mode() == protection::ProtectionMode::enforced) {
        audit_ = std::make_unique<AuditPoll>(loop_.clock(), *protection_);
        audit_->start();
    }
    const size_t count = bindings_->running().size();
    notifier_.ready(fmt::format("{} binding(s); enforcement {}", count, to_string(protection_->mode())));
    notifier_.start_watchdog();
    log::notice(kComponent, "credgated {} ready: {} binding(s), enforcement {}, control socket '{}'", kVersion, count,
                to_string(protection_->mode()), config_.control.socket);
    return {};
}

Result<void> AppImpl::serve_metrics() {
    if (!config_.metrics.listen) return {};
    http::ServerOptions mo;
    mo.listen = *config_.metrics.listen;
    auto m = http::Server::create(loop_, mo, [this](const http::ServerRequest& req, http::Responder respond) {
        if (req.path != "/metrics" || (req.method != "GET" && req.method != "HEAD"))
            return respond(http::text_response(404, "only GET /metrics is served here\n"));
        respond(http::text_response(200, render_metrics(status(), loop_.clock().now()),
                                    "text/plain; version=0.0.4; charset=utf-8"));
    });
    if (!m) return refuse(m.error(), fmt::format("serve metrics on '{}'", *config_.metrics.listen));
    metrics_ = std::move(*m);
    log::info(kComponent, "Serving /metrics on {}", metrics_->local_address());
    return {};
}

void AppImpl::handle_signals() {
    loop_.on_signal(SIGHUP, [this](int) { reload(); });
    loop_.on_signal(SIGTERM, [this](int) { shutdown(); });
    loop_.on_signal(SIGINT, [this](int) { shutdown(); });
}

Result<std::unique_ptr<App>> App::create(runtime::EventLoop& loop, AppOptions options) {
    auto app = std::make_unique<AppImpl>(loop, std::move(options));
    if (auto r = app->init(); !r) return fail(r.error());
    return std::unique_ptr<App>(std::move(app));
}

}  // namespace credgate::daemon
