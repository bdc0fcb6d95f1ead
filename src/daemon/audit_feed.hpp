// SPDX-License-Identifier: Apache-2.0
// The kernel's recent decisions for `credgatectl audit`: a bounded ring of audit lines, numbered in
// the order credgated read them, and requests that wait for the next matching one (--follow).
#pragma once

#include "common/clock.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

namespace credgate::daemon {

// Events kept; older ones are dropped first (a reader that fell behind is told how many it missed).
inline constexpr size_t kAuditRingEvents = 4096;
// How long a --follow request waits for an event before it is answered empty and asked again:
// under credgatectl's 30 s request timeout and the control server's 60 s handler timeout.
inline constexpr Duration kAuditWaitMax{std::chrono::seconds{20}};
// Events in one answer, so an answer stays well under credgatectl's 1 MiB body limit; `more` says
// that another page follows at `next`.
inline constexpr size_t kAuditPageEvents = 512;
// Waiting requests at once; one more is refused (503) rather than holding connections without bound.
inline constexpr size_t kAuditMaxWaiters = 32;

struct AuditFilter {
    std::string binding;  // empty: any
    std::string verdict;  // empty: any; "deny" also takes "audit-deny" (what audit mode let through)
    bool matches(const std::string& event_binding, const std::string& event_verdict) const;
};

struct AuditEntry {
    uint64_t seq = 0;
    std::string binding;  // empty when the decision names none (e.g. a ptrace refusal)
    std::string verdict;  // "allow", "deny", "audit-deny"
    std::string json;     // one JSON object: "seq" and "time" first, then the kernel's event
};

struct AuditPage {
    std::vector<AuditEntry> events;  // matching events from `since` on, oldest first, kAuditPageEvents at most
    uint64_t next = 1;               // ask with since=next for what comes after
    uint64_t missed = 0;             // events from `since` on that the ring dropped before they were read
    bool more = false;               // more matching events are held from `next` on
};

class AuditFeed {
public:
    explicit AuditFeed(Clock& clock, size_t capacity = kAuditRingEvents);
    ~AuditFeed();
    AuditFeed(const AuditFeed&) = delete;
    AuditFeed& operator=(const AuditFeed&) = delete;

    // One line of enforce::audit_json; a line that is not a JSON object is dropped.
    void add(const std::string& json_line);
    // Matching events numbered `since` or later (0 or 1: every event still held).
    AuditPage read(uint64_t since, const AuditFilter& filter) const;
    // `done` gets the page from `since` on as soon as it holds a matching event, or an empty page
    // after kAuditWaitMax. false (and `done` is never called) when kAuditMaxWaiters already wait.
    bool wait(uint64_t since, AuditFilter filter, std::function<void(AuditPage)> done);
    // Whether a held event names this binding.
    bool names_binding(const std::string& binding) const;
    size_t waiting() const noexcept { return waiters_.size(); }

private:
    struct Waiter {
        uint64_t since;
        AuditFilter filter;
        std::function<void(AuditPage)> done;
        std::unique_ptr<Timer> timer;
    };
    void answer(std::list<Waiter>::iterator it, AuditPage page);

    Clock& clock_;
    size_t capacity_;
    std::deque<AuditEntry> ring_;
    uint64_t next_seq_ = 1;
    std::list<Waiter> waiters_;
};

}  // namespace credgate::daemon
