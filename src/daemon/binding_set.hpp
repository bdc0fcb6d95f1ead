// SPDX-License-Identifier: Apache-2.0
// The bindings credgated runs: each started with its Vault client, operations and refresh engine,
// or blocked with the reason; a stopped one is kept until the revocations it owes have answered.
#pragma once

#include "common/log.hpp"
#include "daemon/binding_ops.hpp"
#include "policy/binding_definition.hpp"
#include "refresh/engine.hpp"

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace credgate::runtime {
class EventLoop;
}
namespace credgate::http {
class Client;
}
namespace credgate::protection {
class Protection;
}

namespace credgate::daemon {

class DeliverySinks;

struct BindingRuntime {
    policy::BindingDefinition def;
    policy::DeliveryBackend backend = policy::DeliveryBackend::file;
    std::string path;     // where its file is (or would be) published
    std::string blocked;  // non-empty: not started, and why
    std::unique_ptr<DaemonBindingOps> ops;
    std::unique_ptr<refresh::Engine> engine;
    // Paced start: waiting for its turn, fetching its first secret, or past that.
    enum class Start { waiting, fetching, done } start = Start::waiting;

    // Carried by every log line about the binding: CREDGATE_BINDING and SPIFFE_ID.
    log::Fields log_fields() const { return log::binding_fields(def.binding.meta.name, def.spiffe_id); }
};

// Paced start: at most this many bindings fetch their first secret at once; the others wait, in the
// order they were started, and each begins when one of those ends (delivered or failed). Two per
// connection the HTTP client opens to a Vault host (http::kDefaultMaxInFlightPerHost): while one
// binding waits for its login, another's read can use the connection, so Vault is kept as busy as
// without pacing, but no request waits in the client's queue behind thousands of others (with 10,000
// bindings started at once, each binding's read queued behind every other's login, and a JWT-SVID
// could age towards its expiry before its login was even sent).
inline constexpr size_t kMaxFirstFetches = 8;

// What bindings are started with; each must outlive the BindingSet.
struct BindingContext {
    runtime::EventLoop& loop;
    protection::Protection& protection;
    issuer::Issuer& issuer;
    DeliverySinks& sinks;
};

class BindingSet {
public:
    explicit BindingSet(BindingContext context) : context_(context) {}
    ~BindingSet();
    BindingSet(const BindingSet&) = delete;
    BindingSet& operator=(const BindingSet&) = delete;

    // Starts a binding, or records why it is blocked: no enforcement, its sink missing, its identity
    // among `refused` (name -> why the kernel rules could not express it), its source unusable.
    void start(policy::BindingDefinition definition, const std::map<std::string, std::string>& refused);
    // A reload is also the operator saying "I fixed something": a blocked binding is started again
    // from `definition`, and one waiting out a failure (failed, retrying, expired) tries again now.
    void retry(policy::BindingDefinition definition, const std::map<std::string, std::string>& refused);
    // Stops a binding; its file is removed and, with `revoke`, its tokens revoked. `done` runs when
    // every revocation answered. It is then retired (in-flight completions still reference it).
    void stop(const std::string& name, bool revoke, std::function<void()> done);

    // Stops a binding for a handover: its file stays and its current token is not revoked (tokens it
    // superseded still are); `done` as for stop().
    void hand_over(const std::string& name, std::function<void()> done);

    const BindingRuntime* find(const std::string& name) const;
    BindingRuntime* find(const std::string& name);
    const std::map<std::string, std::unique_ptr<BindingRuntime>>& running() const { return running_; }
    // Stopped bindings, kept while completions may reference them.
    const std::vector<std::unique_ptr<BindingRuntime>>& retired() const { return retired_; }
    // Removes the files of every stopped binding (shutdown: nothing may outlive credgated).
    void unpublish_retired();

private:
    http::Client* client_for(const std::optional<std::string>& ca_file);
    // Starts waiting bindings while fewer than kMaxFirstFetches fetch their first secret.
    void start_waiting();
    void first_attempt_over(BindingRuntime* rt);

    BindingContext context_;
    std::map<std::string, std::unique_ptr<http::Client>> clients_;  // by CA file
    std::map<std::string, std::unique_ptr<BindingRuntime>> running_;
    std::vector<std::unique_ptr<BindingRuntime>> retired_;
    // Runtimes (in running_ or retired_, which keep them until the set is destroyed) waiting to start.
    std::deque<BindingRuntime*> start_queue_;
    size_t fetching_first_ = 0;
    bool starting_ = false;  // start_waiting() is on the stack
    // One random source for every engine's jitter (an engine's own would be a Mersenne Twister each).
    refresh::RandomSource random_ = refresh::default_random_source();
};

}  // namespace credgate::daemon
