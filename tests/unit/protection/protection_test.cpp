// SPDX-License-Identifier: Apache-2.0
// The kernel slot each binding keeps across reloads; what a kernel that cannot enforce logs.
#include "protection/protection.hpp"

#include <doctest/doctest.h>

#include "common/log.hpp"
#include "support/manual_clock.hpp"

#include <map>
#include <string>

using namespace credgate::protection;

TEST_CASE("kernel slots: a binding keeps its slot across reloads and a removed one's slot is reserved once") {
    auto first = assign_slots({}, {"a", "b", "c"});
    CHECK(first.slots == std::map<std::string, uint32_t>{{"a", 0}, {"b", 1}, {"c", 2}});
    CHECK(first.size == 3);
    // b goes away and d arrives in the same reload: d must not take b's slot while b's file exists.
    auto second = assign_slots(first.slots, {"a", "c", "d"});
    CHECK(second.slots == std::map<std::string, uint32_t>{{"a", 0}, {"c", 2}, {"d", 3}});
    CHECK(second.size == 4);
    // One reload later b's slot is free again.
    auto third = assign_slots(second.slots, {"a", "c", "d", "e"});
    CHECK(third.slots.at("e") == 1);
    CHECK(third.slots.at("d") == 3);
}

TEST_CASE("a kernel that cannot enforce: its reason is logged once, and protection says only what follows") {
    const EnforcementCheck check = check_enforcement();
    if (check.supported) {
        MESSAGE("this kernel enforces: Protection::create would load the programs (the vm suite covers it)");
        return;
    }
    credgate::policy::AgentConfig config;
    config.enforcement.pin_dir = "/nonexistent/credgate-test-pins";
    credgate::ManualClock clock;
    credgate::log::Capture capture;
    auto protection = Protection::create(config, false, clock);
    CHECK(protection->mode() == ProtectionMode::blocked);
    INFO(capture.text());
    CHECK(capture.count(check.problem) == 1);
    CHECK(capture.count("Failed to") == 1);
    CHECK(capture.count("protection: Publishing no secret: ") == 1);
    // The binding's status carries the reason, and the override, not a remedy for another problem.
    CHECK(protection->blocked_message().find(check.problem) != std::string::npos);
    CHECK(protection->blocked_message().find("--insecure-no-enforcement") != std::string::npos);
}
