// SPDX-License-Identifier: Apache-2.0
// How credgatectl subcommands plug into the dispatcher: each file registers one CLI11 subcommand
// and returns the action main() runs when that subcommand was given.
#pragma once

// GCC 12 reports a false -Wnull-dereference inside CLI11's inline string helpers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include <functional>

namespace credgate::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and found a problem (e.g. invalid policy)
inline constexpr int kExitUsage = 2;    // bad command line or nothing to act on
inline constexpr int kExitNotFound = 3;  // credgated has no binding of that name (rotate)
inline constexpr int kExitBlocked = 4;   // the binding is BLOCKED and cannot act (rotate)

struct Subcommand {
    CLI::App* app = nullptr;  // owned by the parent CLI::App
    std::function<int()> run;
};

// One function per subcommand file.
Subcommand add_validate(CLI::App& parent);
Subcommand add_convert(CLI::App& parent);

}  // namespace credgate::cli
