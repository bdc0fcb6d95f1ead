// SPDX-License-Identifier: Apache-2.0
// When kernel rule sets are written: a retired rule half is emptied only after the grace period,
// from a timer, and a set that comes sooner waits for it.
#include "protection/rule_swap.hpp"

#include "common/log.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace credgate;
using namespace credgate::protection;

namespace {

constexpr std::chrono::milliseconds kGrace{50};

// Two halves as the kernel keeps them; every write and clear is checked against the grace period.
struct FakeHalves {
    ManualClock& clock;
    bool clean = true;
    TimePoint retired_at{};
    std::vector<std::string> events;  // "clear", "flip:<first binding name>"
    bool fail_next_flip = false;

    RuleSwap::Halves halves() {
        return {[this] { return clean; },
                [this]() -> Result<void> {
                    // Never while a hook may still be using the half the last flip retired.
                    CHECK(clock.now() - retired_at > kGrace);
                    events.push_back("clear");
                    clean = true;
                    return {};
                },
                [this](const identity::CompiledRules& r) -> Result<void> {
                    REQUIRE(clean);
                    clean = false;
                    if (fail_next_flip) {
                        fail_next_flip = false;
                        return fail(ErrorKind::internal, "map full");
                    }
                    events.push_back("flip:" + (r.bindings.empty() ? std::string() : r.bindings[0].name));
                    retired_at = clock.now();
                    return {};
                }};
    }
};

identity::CompiledRules rules_named(const std::string& name) {
    identity::CompiledRules r;
    r.bindings.push_back({name, "spiffe://example.org/" + name, {}});
    return r;
}

}  // namespace

TEST_CASE("rule swap: a swap after a quiet period is written at once and its retired half emptied by a timer") {
    ManualClock clock;
    FakeHalves k{clock};
    RuleSwap swap(clock, k.halves(), kGrace);
    CHECK(clock.pending() == 0);  // new maps: nothing to empty
    REQUIRE(swap.write(rules_named("a")));
    CHECK(k.events == std::vector<std::string>{"flip:a"});
    CHECK_FALSE(swap.waiting());
    clock.advance(kGrace);
    CHECK(k.events.size() == 1);  // 1 ms short: the retired half may still serve a hook
    clock.advance(Duration{1});
    CHECK(k.events == std::vector<std::string>{"flip:a", "clear"});
    CHECK(clock.pending() == 0);
}

TEST_CASE("rule swap: a swap within the grace period waits for the timer, and the latest set wins") {
    ManualClock clock;
    FakeHalves k{clock};
    RuleSwap swap(clock, k.halves(), kGrace);
    REQUIRE(swap.write(rules_named("a")));
    clock.advance(Duration{10});
    REQUIRE(swap.write(rules_named("b")));
    CHECK(swap.waiting());
    clock.advance(Duration{10});
    REQUIRE(swap.write(rules_named("c")));
    CHECK(k.events == std::vector<std::string>{"flip:a"});
    clock.advance(Duration{31});
    CHECK(k.events == std::vector<std::string>{"flip:a", "clear", "flip:c"});
    CHECK_FALSE(swap.waiting());
    clock.advance(Duration{51});
    CHECK(k.events == std::vector<std::string>{"flip:a", "clear", "flip:c", "clear"});
}

TEST_CASE("rule swap: adopted rules count as flipped now; a first swap waits out the grace period") {
    ManualClock clock;
    FakeHalves k{clock};
    k.clean = false;  // the previous credgated's retired half, flipped at an unknown time
    k.retired_at = clock.now();
    RuleSwap swap(clock, k.halves(), kGrace);
    REQUIRE(swap.write(rules_named("a")));
    CHECK(swap.waiting());
    CHECK(k.events.empty());
    clock.advance(Duration{51});
    CHECK(k.events == std::vector<std::string>{"clear", "flip:a"});
}

TEST_CASE("rule swap: a swap due with the emptying timer empties the retired half itself") {
    ManualClock clock;
    FakeHalves k{clock};
    RuleSwap swap(clock, k.halves(), kGrace);
    // Armed first, so it runs first at the instant the swap's own timer is due.
    auto other = clock.make_timer();
    other->arm(clock.now() + kGrace + Duration{1}, [&] { REQUIRE(swap.write(rules_named("b"))); });
    REQUIRE(swap.write(rules_named("a")));
    clock.advance(kGrace + Duration{1});
    CHECK(k.events == std::vector<std::string>{"flip:a", "clear", "flip:b"});
    CHECK_FALSE(swap.waiting());
}

TEST_CASE("rule swap: a deferred swap that fails is logged once and retried until it is written") {
    ManualClock clock;
    FakeHalves k{clock};
    RuleSwap swap(clock, k.halves(), kGrace);
    REQUIRE(swap.write(rules_named("a")));
    REQUIRE(swap.write(rules_named("b")));  // deferred
    k.fail_next_flip = true;
    log::Capture logs;
    clock.advance(Duration{51});
    CHECK(logs.count("protection: Failed to apply the kernel rules: map full; the previous rules stay") == 1);
    CHECK(swap.waiting());
    clock.advance(kRuleRetryInterval);
    CHECK(k.events.back() == "flip:b");
    CHECK_FALSE(swap.waiting());
    CHECK(logs.count("Kernel rules applied after earlier failures") == 1);
}
