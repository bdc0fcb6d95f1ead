// SPDX-License-Identifier: Apache-2.0
// The per-binding refresh state machine. Pure scheduling: every effect goes through BindingOps,
// every wait through the Clock, so tests drive it by hand.
#include "refresh/engine.hpp"

#include "common/log.hpp"
#include "common/time_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace credgate::refresh {
namespace {

constexpr std::string_view kComponent = "refresh";

Duration scale(Duration d, double f) {
    return Duration{static_cast<Duration::rep>(static_cast<double>(d.count()) * f)};
}

vault::VaultError local_error(vault::Operation op, std::string what) {
    vault::VaultError e;
    e.error_class = vault::ErrorClass::local;
    e.operation = op;
    e.explanation = std::move(what);
    e.retryable = true;
    return e;
}

EngineOptions with_default_fields(EngineOptions options, const std::string& name) {
    if (options.log_fields.empty()) options.log_fields = log::binding_fields(name, "");
    return options;
}

}  // namespace

const char* to_string(State s) noexcept {
    switch (s) {
    case State::pending: return "PENDING";
    case State::ok: return "OK";
    case State::refreshing: return "REFRESHING";
    case State::retrying: return "RETRYING";
    case State::failed: return "FAILED";
    case State::expired: return "EXPIRED";
    case State::stopped: return "STOPPED";
    }
    return "UNKNOWN";
}

// A login token and what it read. The token stays in memory because the lease dies with it
// (vault-wire.md §5.2).
struct Engine::Held {
    vault::Token token;
    std::string accessor;                    // safe to log
    TimePoint token_base{};                  // login or last renew-self
    std::optional<TimePoint> token_expiry;   // none: the token has no TTL
    bool token_renewable = false;
    int64_t uses_left = -1;                  // -1: unlimited
    bool leased = false;
    std::string lease_id;
    bool lease_renewable = false;
    Duration lease_granted{0};               // the lease duration of the read
    TimePoint lease_base{};                  // read or last lease renewal
    std::optional<TimePoint> lease_expiry;
    TimePoint read_at{};
    std::string data_json;

    // Spending `n` uses must leave one for revoke-self.
    bool can_spend(int64_t n) const { return uses_left < 0 || uses_left > n; }
    bool revocable(TimePoint now) const {
        return uses_left != 0 && !token.empty() && (!token_expiry || *token_expiry > now);
    }
};

Engine::Engine(std::string name, Clock& clock, BindingOps& ops, EngineOptions options)
    : name_(std::move(name)),
      clock_(clock),
      ops_(ops),
      options_(with_default_fields(std::move(options), name_)),
      backoff_(options_.backoff_min, options_.backoff_max,
               options_.random ? options_.random : (options_.random = default_random_source())),
      main_timer_(clock.make_timer()),
      expiry_timer_(clock.make_timer()),
      revocations_(name_, options_.log_fields, clock, [this](const vault::Token& t, Callback<vault::Empty> done) {
          ++status_.requests;
          ++status_.revocations;
          ops_.revoke_self(t, std::move(done));
      }, options_.backoff_min, options_.backoff_max, options_.random) {
    revocations_.on_idle([this] { maybe_finish_stop(); });
    status_.message = "waiting to fetch the first secret";
}

Engine::~Engine() = default;

// A jittered point between `base` and `deadline`: uniformly within the configured fraction window of
// the span (80-90 % by default). When that window ends later than min_lead before the deadline, the
// window keeps its width and moves earlier so that it ends there, rather than collapsing onto that
// one instant: bindings that started together then drift apart with every cycle instead of
// refreshing in step forever. Never earlier than half the span, so a short lease cannot turn into a
// tight refresh loop.
TimePoint Engine::point_in(TimePoint base, TimePoint deadline) {
    const TimePoint now = clock_.now();
    const Duration span = deadline - base;
    if (span <= Duration::zero()) return now;
    const double lo = std::clamp(options_.tuning.lease_fraction_min, 0.1, 0.99);
    const double hi = std::clamp(options_.tuning.lease_fraction_max, lo, 0.99);
    TimePoint first = base + scale(span, lo);
    TimePoint last = base + scale(span, hi);
    const TimePoint latest = deadline - std::chrono::duration_cast<Duration>(options_.tuning.min_lead);
    if (last > latest) {
        first -= last - latest;
        last = latest;
    }
    TimePoint p = first + scale(last - first, std::clamp(options_.random(), 0.0, 1.0));
    const TimePoint floor = base + span / 2;
    if (p < floor) p = floor;
    return std::max(p, now);
}

std::optional<TimePoint> Engine::effective_expiry() const {
    if (!current_ || !current_->leased || !current_->lease_expiry) return std::nullopt;
    TimePoint e = *current_->lease_expiry;
    // The lease is revoked when the token that read it expires.
    if (current_->token_expiry && *current_->token_expiry < e) e = *current_->token_expiry;
    return e;
}

void Engine::start() {
    if (stopped_) return;
    status_.state = State::pending;
    status_.message = "fetching the first secret";
    run(Action::fetch);
}

void Engine::refresh_now() {
    if (stopped_ || busy_) return;
    main_timer_->cancel();
    status_.next_attempt.reset();
    run(Action::fetch);
}

void Engine::rotate(RotationDone done) {
    if (stopped_) {
        done(fail(ErrorKind::unavailable, "the binding is stopped"));
        return;
    }
    rotations_waiting_.push_back(std::move(done));
    log::notice(options_.log_fields, kComponent, "Binding '{}': rotating on request: fetching a new secret{}", name_,
                busy_ ? " once the request in flight has answered" : " now");
    // While busy, the operation in flight ends in schedule() or on_failure(), whose arm_main starts it.
    if (busy_) return;
    main_timer_->cancel();
    run(Action::fetch);
}

void Engine::answer_rotations(const Result<void>& outcome) {
    for (auto& done : std::exchange(rotations_fetching_, {})) done(outcome);
}

void Engine::run(Action action) {
    if (stopped_ || busy_) return;
    status_.next_attempt.reset();
    if (action != Action::fetch && !current_) action = Action::fetch;
    switch (action) {
    case Action::fetch: return run_fetch();
    case Action::reread: return run_reread();
    case Action::renew_token: return run_renew_token();
    case Action::renew_lease: return run_renew_lease();
    }
}

void Engine::run_fetch() {
    busy_ = true;
    for (auto& done : std::exchange(rotations_waiting_, {})) rotations_fetching_.push_back(std::move(done));
    if (current_) {
        status_.state = State::refreshing;
        status_.message = "fetching a new secret; the current one stays delivered";
    }
    auto jwt = ops_.mint_jwt();
    if (!jwt) {
        busy_ = false;
        on_failure(local_error(vault::Operation::login, "could not mint a JWT-SVID: " + jwt.error().message));
        return;
    }
    ++status_.requests;
    ++status_.logins;
    auto alive = life();
    ops_.login(*jwt, [this, alive](vault::VaultResult<vault::LoginResult> r) {
        if (alive.expired()) return;
        if (!r) {
            busy_ = false;
            if (stopped_)
                settle_after_stop(nullptr);
            else
                on_failure(r.error());
            return;
        }
        const TimePoint now = clock_.now();
        auto held = std::make_shared<Held>();
        held->token = std::move(r->token);
        held->accessor = std::move(r->accessor);
        held->token_base = now;
        if (r->lease_duration.count() > 0)
            held->token_expiry = now + std::chrono::duration_cast<Duration>(r->lease_duration);
        held->token_renewable = r->renewable;
        held->uses_left = r->num_uses > 0 ? r->num_uses : -1;
        if (stopped_) {
            busy_ = false;
            settle_after_stop(held.get());
            return;
        }
        ++status_.requests;
        ++status_.reads;
        ops_.read(held->token, true, [this, alive, held](vault::VaultResult<vault::SecretResult> s) {
            if (alive.expired()) return;
            busy_ = false;
            if (held->uses_left > 0) --held->uses_left;
            const TimePoint t = clock_.now();
            if (stopped_) {
                settle_after_stop(held->revocable(t) ? held.get() : nullptr);
                return;
            }
            if (!s) {
                // The new token read nothing worth keeping.
                if (held->revocable(t)) retire(*held, t);
                on_failure(s.error());
                return;
            }
            held->read_at = t;
            held->leased = s->leased();
            held->lease_id = s->lease_id;
            held->lease_renewable = s->renewable;
            held->lease_granted = std::chrono::duration_cast<Duration>(s->lease_duration);
            held->lease_base = t;
            if (held->leased) held->lease_expiry = t + held->lease_granted;
            held->data_json = s->data_json;
            commit(held, *s);
        });
    });
}

void Engine::commit(std::shared_ptr<Held> fresh, const vault::SecretResult& secret) {
    const TimePoint now = clock_.now();
    if (auto p = ops_.publish(secret); !p) {
        if (fresh->revocable(now)) retire(*fresh, now);
        on_failure(local_error(vault::Operation::read, "could not deliver the secret: " + p.error().message));
        return;
    }
    ++status_.publishes;
    auto old = std::move(current_);
    current_ = std::move(fresh);
    // Rotation: the previous token (and the lease it read) is revoked only after the new secret is
    // delivered, and after a grace period for readers still using the old one.
    if (old && old->revocable(now) && !(old->token == current_->token))
        retire(*old, now + std::chrono::duration_cast<Duration>(options_.tuning.revoke_grace));
    expired_ = false;
    ever_published_ = true;
    succeeded(now);
    status_.lease_id = current_->lease_id;
    status_.state = State::ok;
    schedule();
    const auto expiry = effective_expiry();
    status_.message = expiry ? fmt::format("secret delivered; it expires at {}", rfc3339(*expiry))
                             : "secret delivered; it has no lease and is re-read periodically";
    const Held& h = *current_;
    if (h.leased && h.token_expiry && h.lease_expiry && *h.token_expiry < *h.lease_expiry &&
        !(h.token_renewable && h.can_spend(1))) {
        // The lease is revoked with the token (vault-wire.md §5.2): the role is cutting the secret short.
        const std::string why = fmt::format(
            "the login token expires at {}, before the secret's lease ({}), and cannot be renewed{}; the secret "
            "dies with the token, so set token_ttl on the Vault role to at least the lease duration",
            rfc3339(*h.token_expiry), rfc3339(*h.lease_expiry),
            h.token_renewable ? " (token_num_uses leaves no use to spare for renew-self)" : "");
        log::warning(options_.log_fields, kComponent, "Binding '{}': {}", name_, why);
        status_.message += "; warning: " + why;
    }
    if (current_->leased)
        log::info(options_.log_fields, kComponent,
                  "Binding '{}': delivered a new secret (lease '{}', expires {}; token accessor '{}')", name_,
                  current_->lease_id, expiry ? rfc3339(*expiry) : "never", current_->accessor);
    else
        log::info(options_.log_fields, kComponent,
                  "Binding '{}': delivered a secret without lease{} (token accessor '{}')", name_,
                  secret.is_kv2 ? fmt::format(" (KV v2 version {})", secret.kv2_version) : std::string(),
                  current_->accessor);
    answer_rotations({});
    first_attempt_over();
}

// A refresh succeeded: the backoff starts over, and the last error, if any, is now a past one.
void Engine::succeeded(TimePoint now) {
    backoff_.reset();
    status_.attempts = 0;
    status_.last_success = now;
    if (status_.last_error && !status_.last_error->resolved_at) status_.last_error->resolved_at = now;
}

void Engine::run_reread() {
    busy_ = true;
    ++status_.requests;
    ++status_.reads;
    auto held = current_;
    auto alive = life();
    ops_.read(held->token, false, [this, alive, held](vault::VaultResult<vault::SecretResult> r) {
        if (alive.expired() || !answered_with_current(held)) return;
        if (!r) {
            if (r.error().error_class == vault::ErrorClass::permission) {
                // The token expired, was revoked or used up: log in again now, no backoff.
                held->uses_left = 0;
                run_fetch();
                return;
            }
            on_failure(r.error());
            return;
        }
        const TimePoint now = clock_.now();
        if (r->data_json != held->data_json) {
            if (auto p = ops_.publish(*r); !p) {
                on_failure(local_error(vault::Operation::read, "could not deliver the secret: " + p.error().message));
                return;
            }
            ++status_.publishes;
            held->data_json = r->data_json;
            log::info(options_.log_fields, kComponent, "Binding '{}': the secret changed and was delivered again",
                      name_);
        }
        held->read_at = now;
        succeeded(now);
        status_.state = State::ok;
        status_.message = "secret delivered; it has no lease and is re-read periodically";
        schedule();
    });
}

void Engine::run_renew_token() {
    busy_ = true;
    ++status_.requests;
    ++status_.renewals;
    auto held = current_;
    auto alive = life();
    ops_.renew_self(held->token, [this, alive, held](vault::VaultResult<vault::LoginResult> r) {
        if (alive.expired() || !answered_with_current(held)) return;
        const TimePoint now = clock_.now();
        if (!r) {
            log::warning(options_.log_fields, kComponent, "Binding '{}': Failed to renew the login token: {}", name_,
                         r.error().describe());
            if (r.error().error_class == vault::ErrorClass::permission) {
                // The token is gone, and the lease with it: fetch a new secret now.
                held->uses_left = 0;
                run_fetch();
                return;
            }
            // Stop renewing this token; the schedule then rotates before it expires.
            held->token_renewable = false;
            schedule();
            return;
        }
        const auto old_expiry = held->token_expiry;
        held->token_base = now;
        held->token_expiry = r->lease_duration.count() > 0
                                 ? std::optional(now + std::chrono::duration_cast<Duration>(r->lease_duration))
                                 : std::nullopt;
        held->token_renewable = r->renewable;
        // Capped by the token's max TTL: renewing again would not extend it.
        if (old_expiry && held->token_expiry && *held->token_expiry <= *old_expiry) held->token_renewable = false;
        schedule();
    });
}

void Engine::run_renew_lease() {
    busy_ = true;
    ++status_.requests;
    ++status_.renewals;
    auto held = current_;
    auto alive = life();
    ops_.renew_lease(held->token, held->lease_id, [this, alive, held](vault::VaultResult<vault::LeaseRenewal> r) {
        if (alive.expired() || !answered_with_current(held)) return;
        const TimePoint now = clock_.now();
        if (!r) {
            log::warning(options_.log_fields, kComponent, "Binding '{}': Failed to renew lease '{}': {}", name_,
                         held->lease_id, r.error().describe());
            if (r.error().error_class == vault::ErrorClass::permission && r.error().retryable) {
                held->uses_left = 0;
                run_fetch();
                return;
            }
            held->lease_renewable = false;  // fall back to fetching a new secret before expiry
            schedule();
            return;
        }
        const Duration granted = std::chrono::duration_cast<Duration>(r->lease_duration);
        held->lease_base = now;
        held->lease_expiry = now + granted;
        // Near the max TTL Vault grants less and less; then fetch a new secret instead.
        if (!r->renewable || granted < held->lease_granted / 2) held->lease_renewable = false;
        status_.secret_expiry = effective_expiry();
        schedule();
    });
}

// Common to every answer to a request made with the current token (re-read, token or lease
// renewal): the request spent a use; after stop() or a rotation the answer no longer matters.
bool Engine::answered_with_current(const std::shared_ptr<Held>& held) {
    busy_ = false;
    if (held->uses_left > 0) --held->uses_left;
    if (stopped_) {
        settle_after_stop(nullptr);  // stop() revoked this token itself
        return false;
    }
    return held == current_;
}

void Engine::schedule() {
    main_timer_->cancel();
    status_.next_attempt.reset();
    if (stopped_ || !current_) return;
    const Held& h = *current_;
    const auto min_lead = std::chrono::duration_cast<Duration>(options_.tuning.min_lead);
    if (!h.leased) {
        // Within the last tenth of the interval, at random each time: never staler than staticInterval,
        // and bindings that started together do not re-read in the same second forever.
        const auto interval = std::chrono::duration_cast<Duration>(options_.tuning.static_interval);
        const double r = std::clamp(options_.random(), 0.0, 1.0);
        const TimePoint at = h.read_at + interval - scale(interval / 10, 1.0 - r);
        const bool token_usable = h.can_spend(1) && (!h.token_expiry || *h.token_expiry - min_lead > at);
        arm_main(at, token_usable ? Action::reread : Action::fetch);
        arm_expiry();
        return;
    }
    const TimePoint lease_deadline = *h.lease_expiry;
    TimePoint at;
    Action action;
    if (h.lease_renewable && h.can_spend(1)) {
        at = point_in(h.lease_base, lease_deadline);
        action = Action::renew_lease;
    } else {
        at = point_in(h.lease_base, lease_deadline);
        action = Action::fetch;
    }
    if (h.token_expiry && *h.token_expiry < lease_deadline) {
        TimePoint token_at;
        Action token_action;
        if (h.token_renewable && h.can_spend(1)) {
            token_at = point_in(h.token_base, *h.token_expiry);
            token_action = Action::renew_token;
        } else {
            token_at = point_in(h.lease_base, *h.token_expiry);
            token_action = Action::fetch;
        }
        if (token_at < at) {
            at = token_at;
            action = token_action;
        }
    }
    arm_main(at, action);
    arm_expiry();
}

void Engine::arm_main(TimePoint when, Action action) {
    if (!rotations_waiting_.empty()) {
        // An operator asked for a rotation while a request was in flight: it starts now.
        when = clock_.now();
        action = Action::fetch;
    }
    status_.next_attempt = when;
    main_timer_->arm(when, [this, action] { run(action); });
}

void Engine::arm_expiry() {
    expiry_timer_->cancel();
    status_.secret_expiry = effective_expiry();
    if (status_.secret_expiry) expiry_timer_->arm(*status_.secret_expiry, [this] { on_expired(); });
}

void Engine::on_expired() {
    if (stopped_ || !current_) return;
    const TimePoint now = clock_.now();
    const bool failing = status_.last_error && !status_.last_error->resolved_at;
    const std::string reason =
        failing ? "refreshing failed: " + status_.last_error->explanation : "no refresh succeeded in time";
    log::warning(options_.log_fields, kComponent, "Binding '{}': secret (lease '{}') expired at {}; removing it ({})",
                 name_, current_->lease_id, rfc3339(now), reason);
    ops_.unpublish();
    auto old = std::move(current_);
    // A token that outlived its lease holds nothing any more.
    if (old->revocable(now)) retire(*old, now);
    expired_ = true;
    status_.secret_expiry.reset();
    status_.lease_id.clear();
    status_.state = State::expired;
    status_.message = fmt::format("the secret was removed when it expired at {}; {}", rfc3339(now), reason);
    if (status_.next_attempt)
        status_.message += fmt::format("; next attempt at {}", rfc3339(*status_.next_attempt));
    else if (!busy_)
        arm_main(now, Action::fetch);
}

void Engine::on_failure(const vault::VaultError& error) {
    const TimePoint now = clock_.now();
    ++status_.failures;
    ++status_.attempts;
    status_.last_error = LastError{error.error_class, error.operation, error.http_status, error.explanation,
                                   error.vault_message, error.retryable, now, std::nullopt};
    Duration delay;
    if (error.retryable) {
        delay = backoff_.next();
        if (error.retry_after && *error.retry_after > delay) delay = *error.retry_after;
    } else {
        delay = options_.config_error_retry;
    }
    const TimePoint retry_at = now + delay;
    log::warning(options_.log_fields, kComponent,
                 "Binding '{}': Failed to refresh (attempt {}): {}; next attempt at {}", name_, status_.attempts,
                 error.describe(), rfc3339(retry_at));
    set_state_after_failure(error, retry_at);
    arm_main(retry_at, Action::fetch);
    answer_rotations(fail(error.to_error().kind, error.describe()));
    first_attempt_over();
}

void Engine::first_attempt_over() {
    if (auto done = std::exchange(options_.on_first_attempt, {})) done();
}

void Engine::set_state_after_failure(const vault::VaultError& error, TimePoint retry_at) {
    const auto expiry = effective_expiry();
    const std::string keep =
        expiry ? fmt::format("; the current secret stays delivered until {}", rfc3339(*expiry))
               : (current_ ? "; the current secret stays delivered" : "");
    if (expired_) {
        status_.state = State::expired;
        status_.message = fmt::format("the secret was removed when it expired; {} error: {}; next attempt at {}",
                                      vault::to_string(error.error_class), error.explanation, rfc3339(retry_at));
    } else if (!error.retryable) {
        status_.state = State::failed;
        status_.message = fmt::format("waiting for the policy or Vault to change: {}; next attempt at {}{}",
                                      error.explanation, rfc3339(retry_at), keep);
    } else {
        status_.state = State::retrying;
        status_.message = fmt::format("{} error: {}; retrying at {}{}", vault::to_string(error.error_class),
                                      error.explanation, rfc3339(retry_at), keep);
    }
}

void Engine::retire(const Held& held, TimePoint revoke_at) {
    revocations_.add(RetiredToken{held.token, held.accessor, held.lease_id, held.token_expiry}, revoke_at);
}

void Engine::stop(bool revoke, std::function<void()> done) {
    if (stopped_) {
        // Stopped before (a reload): only revocations may still be pending; try them now.
        if (done)
            stop_done_ = [first = std::move(stop_done_), done = std::move(done)] {
                if (first) first();
                done();
            };
        revocations_.expedite();
        maybe_finish_stop();
        return;
    }
    stopped_ = true;
    revoke_on_stop_ = revoke;
    for (auto& waiting : std::exchange(rotations_waiting_, {})) rotations_fetching_.push_back(std::move(waiting));
    answer_rotations(fail(ErrorKind::unavailable, "the binding was stopped before a new secret was delivered"));
    main_timer_->cancel();
    expiry_timer_->cancel();
    status_.next_attempt.reset();
    status_.state = State::stopped;
    const TimePoint now = clock_.now();
    awaiting_inflight_ = revoke && busy_;
    // Superseded tokens are revoked now rather than after their grace period, and any whose
    // revocation failed before gets another attempt at once.
    revocations_.expedite();
    if (revoke) {
        // Revoking the token revokes its lease, so the delivered secret is dead: remove it.
        if (current_) {
            ops_.unpublish();
            if (current_->revocable(now)) retire(*current_, now);
        }
        current_.reset();
        status_.secret_expiry.reset();
        status_.lease_id.clear();
    }
    // Set last: revocations answered synchronously above must not finish the stop half-way.
    stop_done_ = std::move(done);
    maybe_finish_stop();
    first_attempt_over();
}

void Engine::settle_after_stop(const Held* held) {
    awaiting_inflight_ = false;
    if (held && revoke_on_stop_) retire(*held, clock_.now());
    maybe_finish_stop();
}

void Engine::maybe_finish_stop() {
    if (!stopped_ || awaiting_inflight_ || revocations_.pending() > 0 || !stop_done_) return;
    std::exchange(stop_done_, {})();
}

std::optional<std::string> Engine::describe_current() const {
    if (!current_) return std::nullopt;
    std::string out = fmt::format("accessor '{}'", current_->accessor.empty() ? "unknown" : current_->accessor);
    if (!current_->lease_id.empty()) out += fmt::format(", lease '{}'", current_->lease_id);
    out += current_->token_expiry ? fmt::format(", expires at {}", rfc3339(*current_->token_expiry))
                                  : std::string(", no expiry");
    return out;
}

Status Engine::status() const {
    Status s = status_;
    s.revocations_pending = revocations_.pending();
    s.revocation_failures = revocations_.failures();
    s.next_revocation = revocations_.next_attempt();
    s.tokens_held = (current_ ? 1 : 0) + s.revocations_pending;
    if (stopped_) {
        if (s.revocations_pending > 0)
            s.message = fmt::format("stopped; {} login token(s) not revoked yet, retrying", s.revocations_pending);
        else if (current_)
            s.message = "stopped; the current token was left to expire on its own (revokeOnShutdown: false)";
        else
            s.message = "stopped; every login token was revoked or has expired";
    }
    return s;
}

}  // namespace credgate::refresh
