// SPDX-License-Identifier: Apache-2.0
// Selector key strength: one table says which keys are strong, and every list of them comes from it.
#include "policy/values.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace credgate::policy;

TEST_CASE("every selector key but process:name is strong, and the strong list names exactly those") {
    const std::string all = selector_key_list();
    const std::string strong = strong_selector_key_list();
    std::size_t keys = 0;
    for (std::size_t start = 0; start < all.size();) {
        auto end = all.find(", ", start);
        std::string name = all.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? all.size() : end + 2;
        ++keys;
        auto key = selector_key_from_string(name);
        REQUIRE(key);
        CAPTURE(name);
        CHECK(is_strong(*key) == (*key != SelectorKey::process_name));
        CHECK((strong.find(name) != std::string::npos) == is_strong(*key));
    }
    CHECK(keys == 9);
    CHECK(strong.find("process:name") == std::string::npos);
    CHECK(strong.starts_with("process:path, "));
}
