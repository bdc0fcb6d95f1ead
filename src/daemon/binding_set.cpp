// SPDX-License-Identifier: Apache-2.0
// BindingSet: starting a binding (or blocking it), retrying it after a reload, and stopping it.
#include "daemon/binding_set.hpp"

#include "common/log.hpp"
#include "daemon/delivery_sinks.hpp"
#include "http/client_factory.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

#include <fmt/format.h>

#include <malloc.h>

namespace credgate::daemon {
namespace {
constexpr const char* kComponent = "daemon";
}

BindingSet::~BindingSet() {
    // Engines first (they hold ops), then ops, then the clients they call through.
    for (auto& [n, rt] : running_) rt->engine.reset();
    for (auto& rt : retired_) rt->engine.reset();
    running_.clear();
    retired_.clear();
}

http::Client* BindingSet::client_for(const std::optional<std::string>& ca_file) {
    const std::string key = ca_file.value_or("");
    if (auto it = clients_.find(key); it != clients_.end()) return it->second.get();
    http::ClientOptions o;
    o.ca_file = ca_file;
    auto c = http::make_client(context_.loop, o);
    if (!c) return nullptr;
    return (clients_[key] = std::move(*c)).get();
}

void BindingSet::start(policy::BindingDefinition def, const std::map<std::string, std::string>& refused) {
    auto rt = std::make_unique<BindingRuntime>();
    const std::string name = def.binding.meta.name;
    rt->backend = context_.sinks.backend_of(def);
    rt->def = std::move(def);
    const delivery::Target target{rt->def.workload_uuid, name, rt->def.binding.output.file_name};
    auto sink = context_.sinks.sink_for(rt->backend, name);
    rt->path = context_.sinks.path_of(rt->backend, target);
    if (context_.protection.mode() == protection::ProtectionMode::blocked) {
        rt->blocked = context_.protection.blocked_message();
    } else if (!sink) {
        rt->blocked = sink.error().message;
    } else if (auto it = refused.find(name); it != refused.end()) {
        rt->blocked = fmt::format("the identity '{}' cannot be turned into kernel rules: {}",
                                  rt->def.identity.meta.name, it->second);
    }
    if (rt->blocked.empty()) {
        auto* http = client_for(rt->def.source.vault.ca_file);
        auto vc = http ? vault::VaultClient::create(*http, rt->def.source.vault)
                       : Result<vault::VaultClient>(
                             fail(ErrorKind::config,
                                  fmt::format("cannot use CA file '{}'", rt->def.source.vault.ca_file.value_or(""))));
        if (!vc) {
            rt->blocked = "the credential source cannot be used: " + vc.error().message;
        } else {
            rt->ops = std::make_unique<DaemonBindingOps>(rt->def, std::move(*vc), context_.issuer, **sink);
            refresh::EngineOptions eo;
            eo.tuning = rt->def.binding.refresh;
            eo.log_fields = rt->log_fields();
            eo.random = random_;
            eo.on_first_attempt = [this, raw = rt.get()] { first_attempt_over(raw); };
            rt->engine = std::make_unique<refresh::Engine>(name, context_.loop.clock(), *rt->ops, eo);
        }
    }
    if (!rt->blocked.empty())
        log::error(rt->log_fields(), kComponent, "Binding '{}' is blocked: {}", name, rt->blocked);
    auto* raw = rt.get();
    running_[name] = std::move(rt);
    if (!raw->engine) return;
    start_queue_.push_back(raw);
    start_waiting();
}

void BindingSet::start_waiting() {
    if (starting_) return;  // a first fetch that failed at once: the loop below goes on
    starting_ = true;
    while (fetching_first_ < kMaxFirstFetches && !start_queue_.empty()) {
        BindingRuntime* rt = start_queue_.front();
        start_queue_.pop_front();
        if (rt->start != BindingRuntime::Start::waiting) continue;  // stopped while it waited
        rt->start = BindingRuntime::Start::fetching;
        ++fetching_first_;
        rt->engine->start();
    }
    starting_ = false;
}

void BindingSet::first_attempt_over(BindingRuntime* rt) {
    const bool was_fetching = rt->start == BindingRuntime::Start::fetching;
    rt->start = BindingRuntime::Start::done;
    if (!was_fetching) return;
    --fetching_first_;
    start_waiting();
    if (fetching_first_ == 0 && start_queue_.empty()) {
        // Every binding started has had its first fetch: the memory of the start (the parsed policy
        // documents, thousands of requests, responses and JWT-SVIDs) is free but scattered between
        // what the bindings keep; glibc returns the free pages of its heap to the system only when
        // asked (malloc_trim), so without this the start's peak stays resident.
        ::malloc_trim(0);
    }
}

void BindingSet::retry(policy::BindingDefinition def, const std::map<std::string, std::string>& refused) {
    auto it = running_.find(def.binding.meta.name);
    if (it == running_.end()) return;
    auto& rt = *it->second;
    if (!rt.engine) {
        // Blocked (credgate.ko was not loaded, enforcement was missing, …): tried again.
        running_.erase(it);
        start(std::move(def), refused);
        return;
    }
    if (rt.start == BindingRuntime::Start::waiting) return;  // its first fetch is yet to come
    auto st = rt.engine->status().state;
    if (st == refresh::State::failed || st == refresh::State::retrying || st == refresh::State::expired)
        rt.engine->refresh_now();
}

void BindingSet::stop(const std::string& name, bool revoke, std::function<void()> done) {
    auto it = running_.find(name);
    if (it == running_.end()) {
        if (done) done();
        return;
    }
    auto rt = std::move(it->second);
    running_.erase(it);
    BindingRuntime* raw = rt.get();
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

void BindingSet::hand_over(const std::string& name, std::function<void()> done) {
    auto it = running_.find(name);
    if (it == running_.end()) {
        if (done) done();
        return;
    }
    BindingRuntime* raw = it->second.get();
    retired_.push_back(std::move(it->second));
    running_.erase(it);
    if (!raw->engine) {
        if (done) done();
        return;
    }
    raw->engine->stop(false, std::move(done));
}

const BindingRuntime* BindingSet::find(const std::string& name) const {
    auto it = running_.find(name);
    return it == running_.end() ? nullptr : it->second.get();
}

BindingRuntime* BindingSet::find(const std::string& name) {
    auto it = running_.find(name);
    return it == running_.end() ? nullptr : it->second.get();
}

void BindingSet::unpublish_retired() {
    for (auto& rt : retired_)
        if (rt->ops) rt->ops->unpublish();
}

}  // namespace credgate::daemon
