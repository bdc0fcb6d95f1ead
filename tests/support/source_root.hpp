// SPDX-License-Identifier: Apache-2.0
// Where the tests find the fixtures and examples they read: the source tree's root, from
// CREDGATE_SOURCE_ROOT (meson test sets it); a test stops when it is not set.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

namespace credgate::test {

inline std::filesystem::path source_root() {
    const char* root = std::getenv("CREDGATE_SOURCE_ROOT");
    REQUIRE_MESSAGE(root != nullptr, "CREDGATE_SOURCE_ROOT is not set (run through meson test)");
    return root;
}

}  // namespace credgate::test
