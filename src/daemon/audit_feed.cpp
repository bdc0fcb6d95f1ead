// SPDX-License-Identifier: Apache-2.0
// AuditFeed: the ring, its sequence numbers, filters, and waiting readers answered on the next match.
#include "daemon/audit_feed.hpp"

#include "common/time_text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace credgate::daemon {

bool AuditFilter::matches(const std::string& event_binding, const std::string& event_verdict) const {
    if (!binding.empty() && binding != event_binding) return false;
    if (verdict.empty() || verdict == event_verdict) return true;
    return verdict == "deny" && event_verdict == "audit-deny";
}

AuditFeed::AuditFeed(Clock& clock, size_t capacity) : clock_(clock), capacity_(std::max<size_t>(capacity, 1)) {}

// Waiting readers are dropped unanswered: their connections close with the control server.
AuditFeed::~AuditFeed() = default;

void AuditFeed::add(const std::string& json_line) {
    rapidjson::Document event;
    event.Parse(json_line.c_str(), json_line.size());
    if (event.HasParseError() || !event.IsObject()) return;
    AuditEntry entry;
    entry.seq = next_seq_++;
    auto text = [&](const char* name) {
        auto it = event.FindMember(name);
        return it != event.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString()) : std::string();
    };
    entry.binding = text("binding");
    entry.verdict = text("verdict");
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("seq");
    w.Uint64(entry.seq);
    // When credgated read it from the kernel: within protection::kAuditPollInterval of the decision,
    // whose own clock ("monotonic_ns") is the kernel's, not the wall's.
    const std::string at = rfc3339(clock_.now());
    w.Key("time");
    w.String(at.c_str(), static_cast<rapidjson::SizeType>(at.size()));
    for (auto it = event.MemberBegin(); it != event.MemberEnd(); ++it) {
        w.Key(it->name.GetString(), it->name.GetStringLength());
        it->value.Accept(w);
    }
    w.EndObject();
    entry.json.assign(sb.GetString(), sb.GetSize());
    ring_.push_back(std::move(entry));
    if (ring_.size() > capacity_) ring_.pop_front();

    const auto& added = ring_.back();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        auto current = it++;
        if (added.seq >= current->since && current->filter.matches(added.binding, added.verdict))
            answer(current, read(current->since, current->filter));
    }
}

AuditPage AuditFeed::read(uint64_t since, const AuditFilter& filter) const {
    AuditPage page;
    page.next = next_seq_;
    since = std::max<uint64_t>(since, 1);
    const uint64_t oldest = ring_.empty() ? next_seq_ : ring_.front().seq;
    if (since < oldest) page.missed = oldest - since;
    for (const auto& e : ring_) {
        if (e.seq < since || !filter.matches(e.binding, e.verdict)) continue;
        if (page.events.size() == kAuditPageEvents) {
            page.more = true;
            page.next = page.events.back().seq + 1;
            break;
        }
        page.events.push_back(e);
    }
    return page;
}

bool AuditFeed::wait(uint64_t since, AuditFilter filter, std::function<void(AuditPage)> done) {
    if (waiters_.size() >= kAuditMaxWaiters) return false;
    auto it = waiters_.insert(waiters_.end(), Waiter{since, std::move(filter), std::move(done), clock_.make_timer()});
    it->timer->arm(clock_.now() + kAuditWaitMax, [this, it] { answer(it, read(it->since, it->filter)); });
    return true;
}

bool AuditFeed::names_binding(const std::string& binding) const {
    return std::any_of(ring_.begin(), ring_.end(), [&](const AuditEntry& e) { return e.binding == binding; });
}

void AuditFeed::answer(std::list<Waiter>::iterator it, AuditPage page) {
    auto done = std::move(it->done);
    it->timer->cancel();
    // The timer may be destroyed from its own callback: both clocks move a callback out before they run it.
    waiters_.erase(it);
    done(std::move(page));
}

}  // namespace credgate::daemon
