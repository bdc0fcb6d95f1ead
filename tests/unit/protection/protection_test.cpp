// SPDX-License-Identifier: Apache-2.0
// The kernel slot each binding keeps across reloads.
#include "protection/protection.hpp"

#include <doctest/doctest.h>

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
