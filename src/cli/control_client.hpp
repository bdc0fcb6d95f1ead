// SPDX-License-Identifier: Apache-2.0
// How the control subcommands reach credgated: the socket path (from --socket or the settings
// file) and one HTTP exchange over the unix socket, with the "not running" case in plain words.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace credgate::cli {

struct ControlTarget {
    std::string socket;  // empty: from --config, else the default
    std::string config;  // settings file to read control.socket from
};

// Adds --socket and --config to a subcommand.
void add_control_options(CLI::App& app, ControlTarget& target);

struct ControlReply {
    int status = 0;
    std::string body;
};

// How long a request waits for credgated's answer, unless it says otherwise.
inline constexpr Duration kControlTimeout{std::chrono::seconds{30}};

// One request to credgated. Failures are full sentences ready to print.
Result<ControlReply> control_request(const ControlTarget& target, const std::string& method, const std::string& path,
                                     Duration timeout = kControlTimeout);

// control_request for `credgatectl <command>`: when credgated cannot be asked, says why on stderr
// ("credgatectl <command>: <sentence>") and returns nothing.
std::optional<ControlReply> ask_credgated(std::string_view command, const ControlTarget& target,
                                          const std::string& method, const std::string& path,
                                          Duration timeout = kControlTimeout);

// Says on stderr that an answer cannot be used: "credgatectl <command>: credgated answered <status>:
// <its first error>".
void report_unusable(std::string_view command, const ControlReply& reply);

// The first entry of a JSON {"errors": [...]} body, or the body itself.
std::string first_error(const std::string& body);

// A value percent-encoded for a request's query string.
std::string query_value(std::string_view value);

}  // namespace credgate::cli
