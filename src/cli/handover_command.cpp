// SPDX-License-Identifier: Apache-2.0
// `credgatectl handover`: before a package upgrade restarts credgated, asks it to register the new
// executable at its path and to leave the credential files and current tokens to the next credgated
// if it is stopped within the handover window; exits 1 when that could not be done in full.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"

#include <rapidjson/document.h>

#include <cstdio>
#include <string>

namespace credgate::cli {
namespace {

int run_handover(const ControlTarget& target) {
    auto reply = ask_credgated("handover", target, "POST", "/v1/handover");
    if (!reply) return kExitUnavailable;
    rapidjson::Document d;
    d.Parse(reply->body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("ok") || !d["ok"].IsBool()) {
        report_unusable("handover", *reply);
        return kExitUnavailable;
    }
    if (!d["ok"].GetBool()) {
        std::fprintf(stderr,
                     "credgatectl handover: refused: %s; nothing was armed, so stopping credgated revokes its tokens "
                     "and removes its files as usual\n",
                     first_error(reply->body).c_str());
        return kExitFailure;
    }
    const auto text = [&d](const char* name) {
        return d.HasMember(name) && d[name].IsString() ? std::string(d[name].GetString()) : std::string("?");
    };
    std::printf("handover armed: %s; if credgated stops before %s, it leaves every credential file and current login "
                "token to the credgated started next\n",
                text("registered").c_str(), text("windowClosesAt").c_str());
    return kExitOk;
}

}  // namespace

Subcommand add_handover(CLI::App& parent) {
    auto* app = parent.add_subcommand(
        "handover", "Prepare a restart into a new credgated: its files and tokens are kept for it (package upgrades)");
    auto target = std::make_shared<ControlTarget>();
    add_control_options(*app, *target);
    app->footer("Registers the executable now at credgated's path (only if root alone could have put it there), then "
                "arms a one-shot window of 120 s: the next stop within it leaves the credential files and current login "
                "tokens to the credgated started next, which replaces them. Outside it a stop revokes as usual.\n"
                "Exit codes: 0 armed; 1 refused (the executable could not be registered; nothing armed); 2 usage; "
                "3 credgated could not be asked (not running, no socket, not root).");
    return {app, [target] { return run_handover(*target); }};
}

}  // namespace credgate::cli
