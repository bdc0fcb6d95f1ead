// SPDX-License-Identifier: Apache-2.0
// main() of the identity tests that read real files in temp dirs: they give files and directories
// to other uids, which needs root; without it the binary exits 77 (skip) and says why.
#define DOCTEST_CONFIG_IMPLEMENT
#include "support/root_only_main.hpp"

int main(int argc, char** argv) {
    return credgate::test::root_only_main(argc, argv,
                                          "these tests chown files and directories to another uid, which needs root");
}
