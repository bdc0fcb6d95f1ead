// SPDX-License-Identifier: Apache-2.0
// The recent-decisions ring behind `credgatectl audit`: numbering, filters, a bounded ring that
// says what a reader missed, pages, and waiting readers answered by the next matching event or
// after kAuditWaitMax, on a manual clock.
#include "common/time_text.hpp"
#include "daemon/audit_feed.hpp"
#include "daemon/control_audit.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <optional>

using namespace credgate;
using namespace credgate::daemon;

namespace {

std::string event(const std::string& binding, const std::string& verdict, unsigned pid) {
    return fmt::format(R"({{"event":"credgate.audit","hook":"file_open","verdict":"{}","pid":{},"tgid":{}{}}})",
                       verdict, pid, pid, binding.empty() ? "" : R"(,"binding":")" + binding + "\"");
}

rapidjson::Document parsed(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

}  // namespace

TEST_CASE("events are numbered in the order read, with the time credgated read them first") {
    ManualClock clock;
    AuditFeed feed(clock);
    feed.add(event("agent-key", "deny", 10));
    feed.add("not json");  // dropped, numbers nothing
    feed.add(event("agent-key", "allow", 11));
    const auto page = feed.read(0, {});
    REQUIRE(page.events.size() == 2);
    CHECK(page.next == 3);
    CHECK(page.missed == 0);
    CHECK_FALSE(page.more);
    const auto first = parsed(page.events[0].json);
    CHECK(first.MemberBegin()->name == "seq");
    CHECK(first["seq"].GetUint64() == 1);
    CHECK(std::string(first["time"].GetString()) == rfc3339(clock.now()));
    CHECK(std::string(first["binding"].GetString()) == "agent-key");
    CHECK(first["pid"].GetUint() == 10);
    CHECK(page.events[1].seq == 2);
    CHECK(feed.read(2, {}).events.size() == 1);
    CHECK(feed.read(3, {}).events.empty());
}

TEST_CASE("filters take a binding and a verdict; deny also takes what audit mode let through") {
    ManualClock clock;
    AuditFeed feed(clock);
    feed.add(event("a", "deny", 1));
    feed.add(event("a", "allow", 2));
    feed.add(event("b", "audit-deny", 3));
    feed.add(event("", "deny", 4));
    CHECK(feed.read(0, {"a", ""}).events.size() == 2);
    const auto denies = feed.read(0, {"", "deny"});
    REQUIRE(denies.events.size() == 3);
    CHECK(denies.events[1].verdict == "audit-deny");
    CHECK(feed.read(0, {"", "audit-deny"}).events.size() == 1);
    CHECK(feed.read(0, {"a", "allow"}).events.size() == 1);
    CHECK(feed.names_binding("b"));
    CHECK_FALSE(feed.names_binding("c"));
}

TEST_CASE("the ring keeps its capacity and tells a reader that fell behind how many it missed") {
    ManualClock clock;
    AuditFeed feed(clock, 3);
    for (unsigned i = 1; i <= 5; ++i) feed.add(event("a", "deny", i));
    const auto page = feed.read(2, {});
    CHECK(page.missed == 1);  // event 2 was dropped; 3, 4 and 5 are held
    REQUIRE(page.events.size() == 3);
    CHECK(page.events.front().seq == 3);
    CHECK(feed.read(4, {}).missed == 0);
}

TEST_CASE("a page holds kAuditPageEvents at most and says where the next one starts") {
    ManualClock clock;
    AuditFeed feed(clock);
    for (unsigned i = 1; i <= kAuditPageEvents + 5; ++i) feed.add(event("a", "deny", i));
    const auto first = feed.read(0, {});
    CHECK(first.events.size() == kAuditPageEvents);
    CHECK(first.more);
    CHECK(first.next == kAuditPageEvents + 1);
    const auto second = feed.read(first.next, {});
    CHECK(second.events.size() == 5);
    CHECK_FALSE(second.more);
}

TEST_CASE("a waiting reader is answered by the next matching event, not by others") {
    ManualClock clock;
    AuditFeed feed(clock);
    feed.add(event("a", "deny", 1));
    std::optional<AuditPage> got;
    REQUIRE(feed.wait(2, {"a", "deny"}, [&](AuditPage p) { got = std::move(p); }));
    feed.add(event("b", "deny", 2));
    feed.add(event("a", "allow", 3));
    CHECK_FALSE(got);
    CHECK(feed.waiting() == 1);
    feed.add(event("a", "deny", 4));
    REQUIRE(got);
    REQUIRE(got->events.size() == 1);
    CHECK(got->events[0].seq == 4);
    CHECK(got->next == 5);
    CHECK(feed.waiting() == 0);
    CHECK(clock.pending() == 0);  // its timer went with it
}

TEST_CASE("a waiting reader with nothing to read is answered empty after kAuditWaitMax, not before") {
    ManualClock clock;
    AuditFeed feed(clock);
    std::optional<AuditPage> got;
    REQUIRE(feed.wait(1, {}, [&](AuditPage p) { got = std::move(p); }));
    clock.advance(kAuditWaitMax - Duration{1});
    CHECK_FALSE(got);
    clock.advance(Duration{1});
    REQUIRE(got);
    CHECK(got->events.empty());
    CHECK(got->next == 1);
    CHECK(feed.waiting() == 0);
}

TEST_CASE("more than kAuditMaxWaiters waiting readers are refused") {
    ManualClock clock;
    AuditFeed feed(clock);
    int answered = 0;
    for (size_t i = 0; i < kAuditMaxWaiters; ++i) CHECK(feed.wait(1, {}, [&](AuditPage) { ++answered; }));
    CHECK_FALSE(feed.wait(1, {}, [&](AuditPage) { ++answered; }));
    feed.add(event("a", "deny", 1));
    CHECK(answered == static_cast<int>(kAuditMaxWaiters));
    CHECK(feed.wait(2, {}, [&](AuditPage) { ++answered; }));
}

TEST_CASE("an audit page renders its events as they are, with next, missed and more") {
    ManualClock clock;
    AuditFeed feed(clock);
    feed.add(event("a", "deny", 7));
    const auto d = parsed(audit_page_json(feed.read(0, {}), "enforced"));
    CHECK(std::string(d["enforcement"].GetString()) == "enforced");
    REQUIRE(d["events"].Size() == 1);
    CHECK(d["events"][0]["pid"].GetUint() == 7);
    CHECK(d["events"][0]["seq"].GetUint64() == 1);
    CHECK(d["next"].GetUint64() == 2);
    CHECK(d["missed"].GetUint64() == 0);
    CHECK_FALSE(d["more"].GetBool());
}
