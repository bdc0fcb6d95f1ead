// SPDX-License-Identifier: Apache-2.0
// The revocation queue: one timer for the earliest due token, a backoff per token, and one log
// line for each outcome (the first failure, the eventual revocation, or the expiry that ends it).
#include "refresh/revocations.hpp"

#include "common/log.hpp"
#include "common/time_text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace credgate::refresh {
namespace {
constexpr std::string_view kComponent = "refresh";
}

Revocations::Revocations(std::string binding, log::Fields fields, Clock& clock, RevokeFn revoke,
                         Duration backoff_min, Duration backoff_max, RandomSource random)
    : binding_(std::move(binding)),
      fields_(std::move(fields)),
      clock_(clock),
      revoke_(std::move(revoke)),
      backoff_min_(backoff_min),
      backoff_max_(backoff_max),
      random_(std::move(random)),
      timer_(clock.make_timer()) {}

Revocations::~Revocations() = default;

std::string Revocations::name_of(const RetiredToken& t) const {
    std::string out = fmt::format("accessor '{}'", t.accessor.empty() ? "unknown" : t.accessor);
    if (!t.lease_id.empty()) out += fmt::format(", lease '{}'", t.lease_id);
    return out;
}

void Revocations::add(RetiredToken token, TimePoint due) {
    const uint64_t id = ++next_id_;
    Entry e{std::move(token), due, Backoff(backoff_min_, backoff_max_, random_), false, 0, {}};
    entries_.emplace(id, std::move(e));
    if (due <= clock_.now())
        attempt(id);
    else
        arm();
}

void Revocations::expedite() {
    std::vector<uint64_t> ids;
    for (auto& [id, e] : entries_) {
        e.backoff.reset();
        if (!e.in_flight) ids.push_back(id);
    }
    for (uint64_t id : ids) attempt(id);
    arm();
}

void Revocations::attempt(uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.in_flight) return;
    Entry& e = it->second;
    const TimePoint now = clock_.now();
    if (e.token.expiry && *e.token.expiry <= now) {
        // Vault revokes an expired token (and its leases) itself: nothing is left to do.
        if (e.failed_attempts > 0)
            log::warning(fields_, kComponent,
                         "Binding '{}': the login token ({}) expired at {} before it could be revoked ({} "
                         "failed attempt(s)); dropping it",
                         binding_, name_of(e.token), rfc3339(*e.token.expiry), e.failed_attempts);
        else
            log::info(fields_, kComponent,
                      "Binding '{}': the login token ({}) expired at {}, before its revocation was due", binding_,
                      name_of(e.token), rfc3339(*e.token.expiry));
        settle(id);
        return;
    }
    e.in_flight = true;
    std::weak_ptr<int> alive = life_;
    revoke_(e.token.token, [this, alive, id](vault::VaultResult<vault::Empty> r) {
        if (alive.expired()) return;
        answered(id, r);
    });
    arm();
}

void Revocations::answered(uint64_t id, const vault::VaultResult<vault::Empty>& r) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    e.in_flight = false;
    if (r) {
        if (e.failed_attempts > 0)
            log::notice(fields_, kComponent, "Binding '{}': revoked the login token ({}) after {} failed attempt(s)",
                        binding_, name_of(e.token), e.failed_attempts);
        else
            log::info(fields_, kComponent, "Binding '{}': revoked the login token ({})", binding_, name_of(e.token));
        settle(id);
        return;
    }
    const vault::VaultError& err = r.error();
    if (err.error_class == vault::ErrorClass::permission) {
        // 403 on revoke-self: the token is already expired, revoked or used up, and so is its lease.
        log::info(fields_, kComponent, "Binding '{}': the login token ({}) was already invalid when revoked", binding_,
                  name_of(e.token));
        settle(id);
        return;
    }
    if (err.error_class == vault::ErrorClass::bad_request && !err.retryable) {
        // A batch token: Vault cannot revoke it; it and its leases end at its expiry.
        log::warning(fields_, kComponent,
                     "Binding '{}': Failed to revoke the login token ({}): {}; it stays valid until {}", binding_,
                     name_of(e.token), err.describe(),
                     e.token.expiry ? rfc3339(*e.token.expiry) : std::string("revoked by an operator"));
        settle(id);
        return;
    }
    ++failures_;
    ++e.failed_attempts;
    e.last_failure = err.describe();
    const TimePoint now = clock_.now();
    Duration delay = e.backoff.next();
    if (err.retry_after && *err.retry_after > delay) delay = *err.retry_after;
    e.due = now + delay;
    // At its expiry the token is dropped (attempt() checks it): no attempt is wasted after it.
    if (e.token.expiry && e.due > *e.token.expiry) e.due = *e.token.expiry;
    if (e.failed_attempts == 1)
        log::warning(fields_, kComponent,
                     "Binding '{}': Failed to revoke the login token ({}): {}; retrying with backoff until it is "
                     "revoked or expires ({})",
                     binding_, name_of(e.token), e.last_failure,
                     e.token.expiry ? rfc3339(*e.token.expiry) : std::string("it has no TTL"));
    else
        log::debug(fields_, kComponent,
                   "Binding '{}': revocation attempt {} of the login token ({}) failed: {}; next at {}", binding_,
                   e.failed_attempts, name_of(e.token), e.last_failure, rfc3339(e.due));
    arm();
}

void Revocations::settle(uint64_t id) {
    entries_.erase(id);
    arm();
    if (entries_.empty() && idle_) idle_();
}

void Revocations::fire() {
    const TimePoint now = clock_.now();
    std::vector<uint64_t> due;
    for (const auto& [id, e] : entries_)
        if (!e.in_flight && e.due <= now) due.push_back(id);
    for (uint64_t id : due) attempt(id);
    arm();
}

std::optional<TimePoint> Revocations::next_attempt() const {
    std::optional<TimePoint> next;
    for (const auto& [id, e] : entries_)
        if (!e.in_flight && (!next || e.due < *next)) next = e.due;
    return next;
}

void Revocations::arm() {
    timer_->cancel();
    if (auto next = next_attempt()) timer_->arm(*next, [this] { fire(); });
}

std::vector<std::string> Revocations::describe_pending() const {
    std::vector<std::string> out;
    for (const auto& [id, e] : entries_) {
        std::string line = name_of(e.token);
        line += e.token.expiry ? fmt::format(", valid until {}", rfc3339(*e.token.expiry)) : ", no TTL";
        line += e.last_failure.empty() ? (e.in_flight ? ": no answer yet" : ": not attempted yet")
                                       : ": " + e.last_failure;
        out.push_back(std::move(line));
    }
    return out;
}

}  // namespace credgate::refresh
