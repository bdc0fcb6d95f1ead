// SPDX-License-Identifier: Apache-2.0
// main() of the identity tests that read real files in temp dirs: they give files and directories
// to other uids, which needs root; without it the binary exits 77 (skip) and says why.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    if (::geteuid() != 0) {
        std::fprintf(stderr, "SKIP: these tests chown files and directories to another uid, which needs root\n");
        const char* require = std::getenv("CREDGATE_REQUIRE_ALL_TESTS");
        return require && std::string(require) == "1" ? 1 : 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
