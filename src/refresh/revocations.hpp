// SPDX-License-Identifier: Apache-2.0
// Login tokens a binding no longer needs. Each is revoked when due and, while Vault cannot do it
// (sealed, down, rate limited), retried with backoff until it is revoked or has expired on its own.
#pragma once

#include "common/clock.hpp"
#include "common/log.hpp"
#include "refresh/backoff.hpp"
#include "refresh/operations.hpp"
#include "vault/token.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace credgate::refresh {

// A token to revoke, with what may be logged about it: never the token itself.
struct RetiredToken {
    vault::Token token;
    std::string accessor;             // auth.accessor
    std::string lease_id;             // the lease it read, if any (revoked with it)
    std::optional<TimePoint> expiry;  // none: the token has no TTL and never expires on its own
};

class Revocations {
public:
    using RevokeFn = std::function<void(const vault::Token&, Callback<vault::Empty>)>;

    // `binding` names the binding in log lines, which carry `fields` (log::binding_fields). `clock`
    // must outlive this object.
    Revocations(std::string binding, log::Fields fields, Clock& clock, RevokeFn revoke, Duration backoff_min,
                Duration backoff_max, RandomSource random);
    ~Revocations();
    Revocations(const Revocations&) = delete;
    Revocations& operator=(const Revocations&) = delete;

    // Revokes `token` at `due`; a due time not in the future is attempted at once.
    void add(RetiredToken token, TimePoint due);
    // Shutdown: attempts every waiting token now (grace periods and backoff waits skipped), then
    // retries failures from the shortest backoff again.
    void expedite();
    // Runs every time the last pending token settles (revoked, expired, or beyond revoking).
    void on_idle(std::function<void()> idle) { idle_ = std::move(idle); }

    // Tokens not yet confirmed revoked (waiting for their grace period, in flight, or retrying).
    size_t pending() const noexcept { return entries_.size(); }
    // Failed revocation attempts so far (each one retried).
    uint64_t failures() const noexcept { return failures_; }
    // The next scheduled attempt, if any.
    std::optional<TimePoint> next_attempt() const;
    // One line per pending token: "accessor 'a' (lease 'l', valid until T): <last failure>".
    std::vector<std::string> describe_pending() const;

private:
    struct Entry {
        RetiredToken token;
        TimePoint due;
        Backoff backoff;
        bool in_flight = false;
        unsigned failed_attempts = 0;
        std::string last_failure;
    };

    void attempt(uint64_t id);
    void answered(uint64_t id, const vault::VaultResult<vault::Empty>& result);
    void fire();
    void arm();
    void settle(uint64_t id);
    std::string name_of(const RetiredToken& t) const;

    std::string binding_;
    log::Fields fields_;
    Clock& clock_;
    RevokeFn revoke_;
    Duration backoff_min_;
    Duration backoff_max_;
    RandomSource random_;
    std::unique_ptr<Timer> timer_;
    std::map<uint64_t, Entry> entries_;
    uint64_t next_id_ = 0;
    uint64_t failures_ = 0;
    std::function<void()> idle_;
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace credgate::refresh
