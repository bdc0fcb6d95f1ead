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

// Exit codes shared by every subcommand (the README's "Exit codes" lists them per command).
inline constexpr int kExitOk = 0;
// The command ran and the answer is no: a problem found (an invalid policy, a refused reload, an
// unknown binding for get), access denied (explain), nothing matched (identities, audit).
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;        // bad command line or nothing to act on (explain, rotate: no such pid or binding)
// credgated could not be asked (not running, no socket, not root) or its answer could not be used.
inline constexpr int kExitUnavailable = 3;
inline constexpr int kExitBlocked = 4;  // the binding is BLOCKED and cannot act (rotate)

struct Subcommand {
    CLI::App* app = nullptr;  // owned by the parent CLI::App
    std::function<int()> run;
};

// One function per subcommand file.
Subcommand add_validate(CLI::App& parent);
Subcommand add_convert(CLI::App& parent);

}  // namespace credgate::cli
