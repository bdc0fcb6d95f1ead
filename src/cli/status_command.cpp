// SPDX-License-Identifier: Apache-2.0
// `credgatectl status`: asks credgated for its status document and prints it as a table
// (status_table.cpp), with times relative to the clock it is given, or as JSON with --json.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"
#include "cli/status_table.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace credgate::cli {
namespace {

int run_status(const ControlTarget& target, bool json, const Clock& clock) {
    auto reply = ask_credgated("status", target, "GET", "/v1/status");
    if (!reply) return kExitUnavailable;
    if (reply->status != 200) {
        report_unusable("status", *reply);
        return kExitUnavailable;
    }
    if (json) {
        std::fputs(reply->body.c_str(), stdout);
        return kExitOk;
    }
    auto text = status_text(reply->body, clock.now());
    if (!text) {
        std::fprintf(stderr, "credgatectl status: %s\n", text.error().message.c_str());
        return kExitUnavailable;
    }
    std::fputs(text->c_str(), stdout);
    return kExitOk;
}

}  // namespace

Subcommand add_status(CLI::App& parent, const Clock& clock) {
    auto* app = parent.add_subcommand("status", "Show every binding: identity, state, file, expiry, last error");
    auto target = std::make_shared<ControlTarget>();
    auto json = std::make_shared<bool>(false);
    add_control_options(*app, *target);
    app->add_flag("--json", *json, "print credgated's status document as JSON");
    app->footer("Exit codes: 0 status printed; 2 usage; 3 credgated could not be asked (not running, no socket, not root).");
    return {app, [target, json, &clock] { return run_status(*target, *json, clock); }};
}

}  // namespace credgate::cli
