// SPDX-License-Identifier: Apache-2.0
// App implementation: startup order, binding runtimes, reload application and graceful shutdown.
#include "daemon/app.hpp"

#include "common/log.hpp"
#include "daemon/audit_feed.hpp"
#include "daemon/backend_choice.hpp"
#include "daemon/binding_ops.hpp"
#include "daemon/control_api.hpp"
#include "daemon/metrics.hpp"
#include "daemon/notify.hpp"
#include "delivery/file_sink.hpp"
#include "delivery/sysfs_sink.hpp"
#include "http/client_factory.hpp"
#include "http/server.hpp"
#include "identity/bound_programs.hpp"
#include "issuer/issuer_service.hpp"
#include "policy/loader.hpp"
#include "policy/values.hpp"
#include "protection/cgroup_watch.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

namespace credgate::daemon {
namespace {

constexpr const char* kComponent = "daemon";

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

struct Runtime {
    policy::BindingDefinition def;
    policy::DeliveryBackend backend = policy::DeliveryBackend::file;
    std::string path;     // where its file is (or would be) published
    std::string blocked;  // non-empty: not started, and why
    std::unique_ptr<DaemonBindingOps> ops;
    std::unique_ptr<refresh::Engine> engine;
};

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

class AppImpl final : public App {
public:
    AppImpl(runtime::EventLoop& loop, AppOptions options)
        : loop_(loop), options_(std::move(options)), notifier_(loop.clock()) {}

    ~AppImpl() override {
        cgroup_watch_.reset();
        control_.reset();
        metrics_.reset();
        // Engines first (they hold ops), then ops, then clients they call through.
        for (auto& [n, rt] : bindings_) rt->engine.reset();
        for (auto& rt : retired_) rt->engine.reset();
        bindings_.clear();
        retired_.clear();
    }

    // Startup stops at the first failure, logged here where what failed is known; main only exits.
    static std::unexpected<Error> refuse(const Error& error, std::string_view what) {
        log::error(kComponent, "Failed to {}: {}", what, error.message);
        return fail(error);
    }

    Result<void> init() {
        auto cfg = policy::load_agent_config(options_.config_path);
        if (!cfg) {
            for (const auto& d : cfg.error())
                log::write(d.severity == policy::Severity::error ? log::Level::error : log::Level::warning, kComponent,
                           d.to_string());
            return refuse({ErrorKind::config, fmt::format("{} problem(s), see above", cfg.error().size())},
                          fmt::format("load '{}'", options_.config_path));
        }
        for (const auto& d : cfg->warnings) log::warning(kComponent, "{}", d.to_string());
        config_ = std::move(cfg->value);
        node_ = config_.node.empty() ? host_name() : config_.node;

        auto pol = policy::load_policies({config_.policies_dir}, config_.trust_domain);
        if (!pol) {
            for (const auto& d : pol.error())
                log::write(d.severity == policy::Severity::error ? log::Level::error : log::Level::warning, kComponent,
                           d.to_string());
            return refuse({ErrorKind::config, fmt::format("{} problem(s), see above", pol.error().size())},
                          fmt::format("load the policies in '{}'", config_.policies_dir));
        }
        for (const auto& d : pol->warnings) log::warning(kComponent, "{}", d.to_string());
        auto defs = policy::resolve_bindings(pol->value, config_.trust_domain);
        if (!defs) return refuse(defs.error(), fmt::format("resolve the bindings in '{}'", config_.policies_dir));

        protection_ = protection::Protection::create(config_, options_.insecure_no_enforcement, loop_.clock());
        protection_->on_audit([this](const std::string& line) { audit_.add(line); });
        if (protection_->mode() == protection::ProtectionMode::enforced) watch_cgroups();

        issuer::IssuerOptions io{config_.issuer, config_.trust_domain, node_};
        auto iss = issuer::Issuer::create(io, loop_.clock());
        if (!iss) return refuse(iss.error(), "start the issuer");
        issuer_ = std::move(*iss);
        auto svc = issuer::IssuerService::create(loop_, *issuer_, config_.issuer);
        if (!svc) return refuse(svc.error(), fmt::format("serve the issuer on '{}'", config_.issuer.listen));
        issuer_service_ = std::move(*svc);
        log::info(kComponent, "Issuer '{}' serving on port {}", issuer_->issuer_url(), issuer_service_->port());

        delivery::FileSinkOptions so;
        so.root = config_.delivery.file_root;
        // Only root can mount the private tmpfs or ramfs; anyone else gets a plain directory (development).
        so.mount = ::geteuid() == 0;
        so.hooks = sink_hooks(so.root);
        auto sink = delivery::FileSink::create(so);
        if (!sink) return refuse(sink.error(), "set up file delivery");
        sink_ = std::move(*sink);

        if (auto r = ensure_parent_dir(config_.control.socket); !r)
            return refuse(r.error(), fmt::format("open the control socket '{}'", config_.control.socket));
        http::ServerOptions co;
        co.listen = config_.control.socket;
        auto ctl = http::Server::create(loop_, co, control_handler(*this, loop_.clock()));
        if (!ctl) return refuse(ctl.error(), fmt::format("open the control socket '{}'", config_.control.socket));
        control_ = std::move(*ctl);

        if (config_.metrics.listen) {
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
        }

        started_at_ = loop_.clock().now();
        auto refused = apply_rules(*defs);
        if (!refused) return refuse(refused.error(), "apply the kernel rules");
        clear_leftover_sysfs_files(*defs);
        for (auto& d : *defs) start_binding(std::move(d), *refused);

        loop_.on_signal(SIGHUP, [this](int) {
            auto r = reload();
            if (r.ok)
                log::notice(kComponent, "Reload done: {} started, {} restarted, {} stopped, {} unchanged",
                            r.plan.added.size(), r.plan.changed.size(), r.plan.removed.size(), r.plan.unchanged.size());
        });
        loop_.on_signal(SIGTERM, [this](int) { shutdown(); });
        loop_.on_signal(SIGINT, [this](int) { shutdown(); });
        if (protection_->mode() == protection::ProtectionMode::enforced) {
            audit_timer_ = loop_.clock().make_timer();
            poll_audit();
        }
        notifier_.ready(fmt::format("{} binding(s); enforcement {}", bindings_.size(), to_string(protection_->mode())));
        notifier_.start_watchdog();
        log::notice(kComponent, "credgated {} ready: {} binding(s), enforcement {}, control socket '{}'", kVersion,
                    bindings_.size(), to_string(protection_->mode()), config_.control.socket);
        return {};
    }

    // ---- kernel rules -------------------------------------------------------------------------
    // Rules follow units and cgroups as they start and stop (DESIGN §2), without a reload.
    void watch_cgroups() {
        auto watch = protection::CgroupWatch::create(
            loop_, loop_.clock(), {}, [this](const std::vector<protection::CgroupChange>&) {
                auto refused = protection_->apply(applied_);
                return refused ? Result<void>{} : Result<void>(fail(refused.error()));
            });
        if (!watch) {
            log::error(kComponent, "Failed to follow units and cgroups as they start and stop: {}; the rules change "
                                   "only on reload",
                       watch.error().message);
            return;
        }
        cgroup_watch_ = std::move(*watch);
    }

    // Compiles and swaps the kernel rules for `defs`. What their units and cgroups resolve to is taken
    // first, so a unit that starts or stops during the apply is followed afterwards.
    Result<std::map<std::string, std::string>> apply_rules(const std::vector<policy::BindingDefinition>& defs) {
        auto selectors = protection::watched_cgroups(defs);
        protection::CgroupBaseline baseline;
        if (cgroup_watch_) baseline = cgroup_watch_->resolve(selectors);
        auto refused = protection_->apply(defs);
        if (!refused) return refused;
        applied_ = defs;
        if (cgroup_watch_) cgroup_watch_->follow(std::move(selectors), std::move(baseline));
        return refused;
    }

    void poll_audit() {
        protection_->drain_audit();
        audit_timer_->arm(loop_.clock().now() + protection::kAuditPollInterval, [this] { poll_audit(); });
    }

    // ---- delivery -----------------------------------------------------------------------------
    // Every new file is registered with the kernel before it has content (DESIGN §4).
    delivery::Hooks sink_hooks(const std::string& root) {
        delivery::Hooks hooks;
        hooks.before_content = [this, root](const delivery::Target& t, delivery::FileId id) {
            return protection_->protect(root, t, id);
        };
        hooks.after_retire = [this, root](const delivery::Target& t, delivery::FileId id) {
            protection_->unprotect(root, t, id);
        };
        return hooks;
    }

    // The sysfs sink, set up the first time a binding needs it with credgate.ko loaded.
    Result<delivery::SysfsSink*> sysfs_sink() {
        if (sysfs_) return sysfs_.get();
        delivery::SysfsSinkOptions so;
        so.root = config_.delivery.sysfs_root;
        so.hooks = sink_hooks(so.root);
        auto sink = delivery::SysfsSink::create(std::move(so));
        if (!sink) return fail(sink.error());
        sysfs_ = std::move(*sink);
        log::info(kComponent, "Delivering to credgate.ko under '{}'", sysfs_->root());
        return sysfs_.get();
    }

    // Files a previous credgated left in credgate.ko (it did not stop cleanly): a file this one
    // publishes again is kept only while the kernel still protects it for that binding (the pinned
    // programs and its slot were kept); every other file goes before any binding starts.
    void clear_leftover_sysfs_files(const std::vector<policy::BindingDefinition>& defs) {
        if (!delivery::sysfs_module_loaded(config_.delivery.sysfs_root)) return;
        auto sink = sysfs_sink();
        if (!sink) {
            log::error(kComponent, "Failed to use credgate.ko: {}", sink.error().message);
            return;
        }
        auto files = (*sink)->list();
        if (!files) {
            log::error(kComponent, "Failed to list the files in credgate.ko: {}", files.error().message);
            return;
        }
        std::set<std::string> expected;
        for (const auto& d : defs)
            if (choose_backend(d.binding.propagation, config_.delivery.backend, true) == policy::DeliveryBackend::sysfs)
                expected.insert((*sink)->path_of({d.workload_uuid, d.binding.meta.name, d.binding.output.file_name}));
        for (const auto& [target, id] : *files) {
            const std::string path = (*sink)->path_of(target);
            if (expected.contains(path) && protection_->holds(target, id)) {
                log::info(kComponent, "Kept '{}' from the previous credgated: the kernel still protects it", path);
                continue;
            }
            const char* why = expected.contains(path) ? "the kernel no longer protects it for its binding"
                                                      : "no binding publishes it";
            if (auto r = (*sink)->remove_file(target); !r)
                log::error(kComponent, "Failed to remove '{}' left by a previous credgated ({}): {}", path, why,
                           r.error().message);
            else
                log::notice(kComponent, "Removed '{}' left by a previous credgated: {}", path, why);
        }
    }

    // ---- bindings -----------------------------------------------------------------------------
    http::Client* client_for(const std::optional<std::string>& ca_file) {
        const std::string key = ca_file.value_or("");
        if (auto it = clients_.find(key); it != clients_.end()) return it->second.get();
        http::ClientOptions o;
        o.ca_file = ca_file;
        auto c = http::make_client(loop_, o);
        if (!c) return nullptr;
        return (clients_[key] = std::move(*c)).get();
    }

    // The sink of a backend; sysfs fails (unsupported) while credgate.ko is not loaded, naming the command.
    Result<delivery::Sink*> sink_for(policy::DeliveryBackend backend, const std::string& binding) {
        if (backend != policy::DeliveryBackend::sysfs) return sink_.get();
        if (!delivery::sysfs_module_loaded(config_.delivery.sysfs_root))
            return fail(ErrorKind::unsupported, module_missing_message(binding, config_.delivery.sysfs_root));
        auto sysfs = sysfs_sink();
        if (!sysfs) return fail(sysfs.error().kind, "credgate.ko cannot be used: " + sysfs.error().message);
        return *sysfs;
    }

    void start_binding(policy::BindingDefinition def, const std::map<std::string, std::string>& refused) {
        auto rt = std::make_unique<Runtime>();
        const std::string name = def.binding.meta.name;
        rt->backend = choose_backend(def.binding.propagation, config_.delivery.backend,
                                     delivery::sysfs_module_loaded(config_.delivery.sysfs_root));
        rt->def = std::move(def);
        const delivery::Target target{rt->def.workload_uuid, name, rt->def.binding.output.file_name};
        auto sink = sink_for(rt->backend, name);
        rt->path = sink ? (*sink)->path_of(target) : delivery::SysfsSink::path_in(config_.delivery.sysfs_root, target);
        if (protection_->mode() == protection::ProtectionMode::blocked) {
            rt->blocked = protection_->blocked_message();
        } else if (!sink) {
            rt->blocked = sink.error().message;
        } else if (auto it = refused.find(name); it != refused.end()) {
            rt->blocked = fmt::format("the identity '{}' cannot be turned into kernel rules: {}",
                                      rt->def.identity.meta.name, it->second);
        }
        if (rt->blocked.empty()) {
            auto* http = client_for(rt->def.source.vault.ca_file);
            auto vc = http ? vault::VaultClient::create(*http, rt->def.source.vault)
                           : Result<vault::VaultClient>(fail(
                                 ErrorKind::config,
                                 fmt::format("cannot use CA file '{}'", rt->def.source.vault.ca_file.value_or(""))));
            if (!vc) {
                rt->blocked = "the credential source cannot be used: " + vc.error().message;
            } else {
                rt->ops = std::make_unique<DaemonBindingOps>(rt->def, std::move(*vc), *issuer_, **sink);
                refresh::EngineOptions eo;
                eo.tuning = rt->def.binding.refresh;
                rt->engine = std::make_unique<refresh::Engine>(name, loop_.clock(), *rt->ops, eo);
            }
        }
        if (!rt->blocked.empty()) log::error(kComponent, "Binding '{}' is blocked: {}", name, rt->blocked);
        auto* raw = rt.get();
        bindings_[name] = std::move(rt);
        if (raw->engine) raw->engine->start();
    }

    // Stops a runtime; its file is removed and, with `revoke`, its tokens revoked. `done` runs when
    // every revocation answered. The runtime moves to retired_ (in-flight completions reference it).
    void stop_binding(const std::string& name, bool revoke, std::function<void()> done) {
        auto it = bindings_.find(name);
        if (it == bindings_.end()) {
            if (done) done();
            return;
        }
        auto rt = std::move(it->second);
        bindings_.erase(it);
        Runtime* raw = rt.get();
        retired_.push_back(std::move(rt));
        if (!raw->engine) {
            if (done) done();
            return;
        }
        raw->engine->stop(revoke, std::move(done));
        // Removed now, before a restarted binding can publish at the same path. Without revocation
        // the engine keeps the file; the secret must still not outlive the binding.
        raw->ops->unpublish();
    }

    // ---- reload -------------------------------------------------------------------------------
    ReloadOutcome reload() override {
        ReloadOutcome out;
        out.at = loop_.clock().now();
        if (stopping_) {
            out.errors.push_back("credgated is shutting down");
            return out;
        }
        log::info(kComponent, "Reloading the policies in '{}'", config_.policies_dir);
        // The settings file is checked too: a broken one fails the reload, a changed one is applied
        // only by a restart (listeners, keys and the delivery root cannot move under running bindings).
        auto cfg = policy::load_agent_config(options_.config_path);
        if (!cfg) {
            for (const auto& d : cfg.error()) {
                (d.severity == policy::Severity::error ? out.errors : out.warnings).push_back(d.to_string());
                log::error(kComponent, "{}", d.to_string());
            }
            log::error(kComponent, "Failed to reload: '{}' has {} error(s); nothing changed", options_.config_path,
                       out.errors.size());
            last_reload_ = out;
            return out;
        }
        if (policy::config_fingerprint(cfg->value) != policy::config_fingerprint(config_)) {
            out.warnings.push_back(
                fmt::format("{}: changed settings take effect only when credgated restarts; "
                            "the policies were reloaded with the running settings",
                            options_.config_path));
            log::warning(kComponent, "'{}' changed: restart credgated to apply it; reloading the policies only",
                         options_.config_path);
        }
        auto pol = policy::load_policies({config_.policies_dir}, config_.trust_domain);
        if (!pol) {
            for (const auto& d : pol.error()) {
                (d.severity == policy::Severity::error ? out.errors : out.warnings).push_back(d.to_string());
                log::error(kComponent, "{}", d.to_string());
            }
            log::error(kComponent, "Failed to reload: the policy has {} error(s); nothing changed", out.errors.size());
            last_reload_ = out;
            return out;
        }
        for (const auto& d : pol->warnings) {
            out.warnings.push_back(d.to_string());
            log::warning(kComponent, "{}", d.to_string());
        }
        auto defs = policy::resolve_bindings(pol->value, config_.trust_domain);
        if (!defs) {
            out.errors.push_back(defs.error().message);
            log::error(kComponent, "Failed to reload: {}; nothing changed", defs.error().message);
            last_reload_ = out;
            return out;
        }
        auto refused = apply_rules(*defs);
        if (!refused) {
            out.errors.push_back("cannot apply the kernel rules: " + refused.error().message);
            log::error(kComponent, "Failed to reload: {}; nothing changed", out.errors.back());
            last_reload_ = out;
            return out;
        }
        std::map<std::string, std::string> running, loaded;
        for (const auto& [n, rt] : bindings_) running[n] = rt->def.fingerprint;
        for (const auto& d : *defs) loaded[d.binding.meta.name] = d.fingerprint;
        out.plan = policy::plan_reload(running, loaded);
        for (const auto& n : out.plan.removed) {
            log::notice(kComponent, "Binding '{}' was removed: revoking its token and removing its file", n);
            stop_binding(n, true, {});
        }
        for (const auto& n : out.plan.changed) {
            log::notice(kComponent, "Binding '{}' changed: restarting it", n);
            stop_binding(n, true, {});
        }
        for (auto& d : *defs) {
            const std::string n = d.binding.meta.name;
            if (auto it = bindings_.find(n); it != bindings_.end()) {
                // Unchanged: keeps running untouched. A reload is also the operator saying "I fixed
                // something", so a binding waiting out a non-retryable error tries again now.
                auto& rt = *it->second;
                if (!rt.engine) {
                    // Blocked (credgate.ko was not loaded, enforcement was missing, …): tried again.
                    bindings_.erase(it);
                    start_binding(std::move(d), *refused);
                    continue;
                }
                {
                    auto st = rt.engine->status().state;
                    if (st == refresh::State::failed || st == refresh::State::retrying || st == refresh::State::expired)
                        rt.engine->refresh_now();
                }
                continue;
            }
            if (std::find(out.plan.added.begin(), out.plan.added.end(), n) != out.plan.added.end())
                log::notice(kComponent, "Binding '{}' was added: starting it", n);
            start_binding(std::move(d), *refused);
        }
        out.ok = true;
        last_reload_ = out;
        notifier_.status(
            fmt::format("{} binding(s); enforcement {}", bindings_.size(), to_string(protection_->mode())));
        return out;
    }

    // ---- shutdown -----------------------------------------------------------------------------
    void shutdown() override {
        if (stopping_) return;
        stopping_ = true;
        const bool revoke = config_.revoke_on_shutdown;
        log::notice(kComponent, "Stopping: {} every token, removing every credential file",
                    revoke ? "revoking" : "not revoking (revokeOnShutdown: false)");
        notifier_.stopping("stopping");
        if (control_) control_->close();
        std::vector<std::string> names;
        for (const auto& [n, rt] : bindings_) names.push_back(n);
        // Bindings stopped by a reload may still be retrying revocations: they are waited for too.
        std::vector<refresh::Engine*> earlier;
        for (const auto& rt : retired_)
            if (rt->engine && rt->engine->status().revocations_pending > 0) earlier.push_back(rt->engine.get());
        pending_stops_ = names.size() + earlier.size() + 1;
        for (auto* engine : earlier) engine->stop(revoke, [this] { stop_done(); });
        for (const auto& n : names) stop_binding(n, revoke, [this] { stop_done(); });
        shutdown_timer_ = loop_.clock().make_timer();
        shutdown_timer_->arm(loop_.clock().now() + kShutdownTimeout, [this] {
            // Named by accessor and lease (never the token), so an operator can revoke them by hand.
            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(kShutdownTimeout).count();
            for (const auto& rt : retired_)
                if (rt->engine)
                    for (const auto& token : rt->engine->unrevoked())
                        log::error(kComponent,
                                   "Failed to revoke a login token of binding '{}' within the {} s shutdown deadline "
                                   "({}); exiting with it still valid",
                                   rt->def.binding.meta.name, secs, token);
            finish();
        });
        stop_done();
    }

    void stop_done() {
        if (pending_stops_ > 0 && --pending_stops_ == 0) {
            // Every binding stopped and removed its files in time: nothing is left to protect there.
            protection_->release_root();
            finish();
        }
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        for (auto& rt : retired_)
            if (rt->ops) rt->ops->unpublish();
        shutdown_timer_->cancel();
        if (audit_timer_) {
            protection_->drain_audit();
            audit_timer_->cancel();
        }
        issuer_service_.reset();
        metrics_.reset();
        log::notice(kComponent, "Stopped");
        loop_.stop();
    }

    // ---- views --------------------------------------------------------------------------------
    BindingSnapshot snapshot(const Runtime& rt) const {
        BindingSnapshot s;
        s.definition = rt.def;
        s.propagation = std::string(policy::to_string(rt.backend));
        s.path = rt.path;
        for (auto& d : identity::replaceable_bound_programs(rt.def.identity)) s.warnings.push_back(std::move(d.message));
        if (!rt.blocked.empty()) {
            s.state = kBlockedState;
            s.message = rt.blocked;
            return s;
        }
        auto st = rt.engine->status();
        s.state = refresh::to_string(st.state);
        s.message = st.message;
        s.published = rt.ops->published();
        s.file_uid = rt.ops->file_uid();
        s.file_mode = rt.ops->file_mode();
        s.pinned_uid = rt.ops->owner().uid;
        s.vault_read_url = rt.ops->vault().read_url();
        s.lease_duration = rt.ops->last_lease_duration();
        s.token_ttl = rt.ops->last_token_ttl();
        s.engine = std::move(st);
        return s;
    }

    DaemonSnapshot status() const override {
        DaemonSnapshot d;
        d.version = kVersion;
        d.pid = ::getpid();
        d.config_path = options_.config_path;
        d.trust_domain = config_.trust_domain;
        d.node = node_;
        d.protection = to_string(protection_->mode());
        d.protection_problem = protection_->problem();
        d.issuer_url = issuer_->issuer_url();
        d.started_at = started_at_;
        d.last_reload = last_reload_;
        d.delivery = {sink_->root(), delivery::to_string(sink_->mount().filesystem),
                      delivery::may_swap(sink_->mount().filesystem), sink_->mount().reason, sink_->published_bytes(),
                      sink_->max_total_bytes(), config_.delivery.sysfs_root,
                      delivery::sysfs_module_loaded(config_.delivery.sysfs_root)};
        for (const auto& [n, rt] : bindings_) d.bindings.push_back(snapshot(*rt));
        for (const auto& rt : retired_)
            if (rt->engine) d.stopped_revocations_pending += rt->engine->status().revocations_pending;
        return d;
    }

    IssuerSnapshot issuer() const override {
        IssuerSnapshot s;
        s.url = issuer_->issuer_url();
        s.discovery_url = s.url + issuer_->discovery_path();
        s.jwks_url = s.url + issuer_->jwks_path();
        s.algorithm = issuer_->algorithm();
        s.current_kid = issuer_->current_kid();
        s.published_kids = issuer_->published_kids();
        s.public_key_pem = issuer_->public_key_pem();
        s.key_file = config_.issuer.key_file;
        s.token_ttl = config_.issuer.token_ttl;
        s.key_rotation = config_.issuer.key_rotation;
        for (const auto& [n, rt] : bindings_) s.bindings.push_back(snapshot(*rt));
        return s;
    }

    std::vector<policy::BindingDefinition> definitions() const override { return applied_; }
    const protection::Protection& protection() const override { return *protection_; }
    AuditFeed& audit() override { return audit_; }

private:
    runtime::EventLoop& loop_;
    AppOptions options_;
    Notifier notifier_;
    policy::AgentConfig config_;
    std::string node_;
    std::unique_ptr<protection::Protection> protection_;
    std::vector<policy::BindingDefinition> applied_;  // the definitions of the rules in the kernel
    std::unique_ptr<protection::CgroupWatch> cgroup_watch_;  // absent when not enforcing
    std::map<std::string, std::unique_ptr<http::Client>> clients_;
    std::unique_ptr<issuer::Issuer> issuer_;
    std::unique_ptr<issuer::IssuerService> issuer_service_;
    std::unique_ptr<delivery::FileSink> sink_;
    std::unique_ptr<delivery::SysfsSink> sysfs_;  // once a binding delivers through credgate.ko
    std::map<std::string, std::unique_ptr<Runtime>> bindings_;
    std::vector<std::unique_ptr<Runtime>> retired_;  // stopped; kept while completions may reference them
    std::unique_ptr<http::Server> control_;
    std::unique_ptr<http::Server> metrics_;
    std::unique_ptr<Timer> shutdown_timer_;
    std::unique_ptr<Timer> audit_timer_;
    TimePoint started_at_{};
    std::optional<ReloadOutcome> last_reload_;
    bool stopping_ = false;
    bool finished_ = false;
    size_t pending_stops_ = 0;
    AuditFeed audit_{loop_.clock()};  // for credgatectl audit
};

}  // namespace

Result<std::unique_ptr<App>> App::create(runtime::EventLoop& loop, AppOptions options) {
    auto app = std::make_unique<AppImpl>(loop, std::move(options));
    if (auto r = app->init(); !r) return fail(r.error());
    return std::unique_ptr<App>(std::move(app));
}

}  // namespace credgate::daemon
