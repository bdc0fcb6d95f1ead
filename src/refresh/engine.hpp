// SPDX-License-Identifier: Apache-2.0
// One refresh state machine per binding (DESIGN §6): log in, read, publish, keep the login token
// while its secret is in use, rotate before expiry, back off on failure, revoke superseded tokens.
#pragma once

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "policy/model.hpp"
#include "refresh/backoff.hpp"
#include "refresh/operations.hpp"
#include "refresh/revocations.hpp"

#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace credgate::refresh {

enum class State {
    pending,     // started, no secret delivered yet and no failure so far
    ok,          // a valid secret is delivered and the next refresh is scheduled
    refreshing,  // a refresh is in flight while a valid secret is delivered
    retrying,    // the last attempt failed with a transient error; the next one is scheduled
    failed,      // the last attempt failed in a way retrying will not fix; waiting for a change
    expired,     // the delivered secret expired and was removed; attempts continue
    stopped,
};

// Every state, in declaration order (the metrics list a count for each).
inline constexpr State kStates[] = {State::pending, State::ok,      State::refreshing, State::retrying,
                                    State::failed,  State::expired, State::stopped};
static_assert(std::size(kStates) == static_cast<size_t>(State::stopped) + 1, "kStates must list every State");

// The state as status, JSON and metrics spell it: "PENDING", "OK", "REFRESHING", ...
const char* to_string(State s) noexcept;

struct LastError {
    vault::ErrorClass error_class = vault::ErrorClass::local;
    vault::Operation operation = vault::Operation::read;
    int http_status = 0;
    std::string explanation;    // plain words
    std::string vault_message;  // verbatim
    bool retryable = false;
    TimePoint at{};                        // when it happened
    std::optional<TimePoint> resolved_at;  // set by the next success: the error is past
};

struct Status {
    State state = State::pending;
    std::string message;  // what is happening, in plain words
    std::optional<LastError> last_error;
    uint64_t attempts = 0;  // consecutive failed attempts since the last success
    uint64_t requests = 0;  // Vault requests issued
    uint64_t logins = 0;
    uint64_t reads = 0;
    uint64_t renewals = 0;
    uint64_t revocations = 0;
    uint64_t publishes = 0;
    uint64_t failures = 0;
    std::optional<TimePoint> next_attempt;
    std::optional<TimePoint> secret_expiry;  // when the delivered secret stops working
    std::optional<TimePoint> last_success;
    std::string lease_id;  // never the token
    size_t tokens_held = 0;          // current + superseded tokens not yet revoked
    size_t revocations_pending = 0;  // tokens waiting for revocation (grace period, in flight or retrying)
    uint64_t revocation_failures = 0;
    std::optional<TimePoint> next_revocation;
};

struct EngineOptions {
    policy::RefreshTuning tuning;
    Duration backoff_min{std::chrono::seconds{1}};
    Duration backoff_max{std::chrono::minutes{5}};
    // Wait after an error retrying cannot fix (4xx other than 429): long, so a mis-configured role
    // is not hammered, short enough that a fix is picked up without a restart.
    Duration config_error_retry{std::chrono::minutes{5}};
    RandomSource random;  // default: a seeded Mersenne Twister
    // Carried by every log line of the binding; default: CREDGATE_BINDING=<name>.
    log::Fields log_fields;
    // Called once, when the first fetch after start() has ended (its secret delivered, or failed), or
    // when the engine is stopped before that: the daemon paces the first fetches of many bindings.
    std::function<void()> on_first_attempt;
};

// How a rotation an operator asked for ended: the new secret delivered, or why not.
using RotationDone = std::function<void(Result<void>)>;

class Engine {
public:
    // `name` is the binding name (for logs). `clock` and `ops` must outlive the engine.
    Engine(std::string name, Clock& clock, BindingOps& ops, EngineOptions options);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Starts the first fetch immediately.
    void start();
    // Attempts a fresh fetch now (after a policy reload, or an operator's request), cancelling any
    // backoff wait. Ignored while a request is in flight or after stop().
    void refresh_now();
    // An operator's rotation: fetches a fresh secret now exactly as a scheduled rotation does (a new
    // login, a new secret, its delivery, the previous token revoked after revokeGrace). An operation
    // in flight is answered first. `done` runs once the new secret is delivered, or with the
    // failure (which is then handled as any other: logged, backed off, retried), or at stop().
    void rotate(RotationDone done);
    // Cancels the refresh timers and revokes at once every superseded token still waiting, including
    // those whose revocation failed before. With `revoke`, also the current token (which revokes its
    // lease), and one a login still in flight returns, and removes the delivered file, since it would
    // hold a dead secret. Failed revocations keep being retried with backoff; `done` runs when every
    // token is revoked or expired. Keep the engine alive until then, or give up with unrevoked().
    // Stopping a stopped engine retries its pending revocations at once; `done` runs as above.
    void stop(bool revoke, std::function<void()> done = {});

    Status status() const;
    // The current login token (the one whose secret is delivered) by accessor, lease and expiry, never
    // the token; nothing when there is none.
    std::optional<std::string> describe_current() const;
    // The tokens not yet revoked, by accessor and lease (never the token), with the last failure.
    std::vector<std::string> unrevoked() const { return revocations_.describe_pending(); }
    const std::string& name() const noexcept { return name_; }

private:
    struct Held;
    enum class Action { fetch, reread, renew_token, renew_lease };

    void run(Action action);
    void run_fetch();
    void run_reread();
    void run_renew_token();
    void run_renew_lease();
    void commit(std::shared_ptr<Held> fresh, const vault::SecretResult& secret);
    void on_failure(const vault::VaultError& error);
    void succeeded(TimePoint now);
    void schedule();
    void arm_main(TimePoint when, Action action);
    // Answers the rotations waiting for the fetch that just ended.
    void answer_rotations(const Result<void>& outcome);
    void arm_expiry();
    void on_expired();
    void retire(const Held& held, TimePoint revoke_at);
    // An operation in flight at stop() has answered: revoke the token it brought, then let stop finish.
    void settle_after_stop(const Held* held);
    void maybe_finish_stop();
    void first_attempt_over();
    bool answered_with_current(const std::shared_ptr<Held>& held);
    void set_state_after_failure(const vault::VaultError& error, TimePoint retry_at);
    std::optional<TimePoint> effective_expiry() const;
    TimePoint point_in(TimePoint base, TimePoint deadline);
    std::weak_ptr<int> life() const { return life_; }

    std::string name_;
    Clock& clock_;
    BindingOps& ops_;
    EngineOptions options_;
    Backoff backoff_;
    std::unique_ptr<Timer> main_timer_;
    std::unique_ptr<Timer> expiry_timer_;
    Revocations revocations_;

    std::shared_ptr<Held> current_;
    bool busy_ = false;
    bool stopped_ = false;
    bool ever_published_ = false;
    bool expired_ = false;
    bool revoke_on_stop_ = false;
    bool awaiting_inflight_ = false;  // stop(revoke) waits for the answer of an operation in flight
    std::function<void()> stop_done_;
    std::vector<RotationDone> rotations_waiting_;   // asked for; answered by the next fetch to start
    std::vector<RotationDone> rotations_fetching_;  // answered when the fetch in flight ends
    Status status_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace credgate::refresh
