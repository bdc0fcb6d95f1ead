// SPDX-License-Identifier: Apache-2.0
// The doctest main() of test binaries that need root: without it they exit 77 (skip) and say why, or
// fail where every test is required to run (CREDGATE_REQUIRE_ALL_TESTS=1). Include after defining
// DOCTEST_CONFIG_IMPLEMENT in exactly one file of the binary.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace credgate::test {

inline int root_only_main(int argc, char** argv, const char* why) {
    if (::geteuid() != 0) {
        std::fprintf(stderr, "SKIP: %s\n", why);
        const char* require = std::getenv("CREDGATE_REQUIRE_ALL_TESTS");
        return require && std::string(require) == "1" ? 1 : 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}

}  // namespace credgate::test
