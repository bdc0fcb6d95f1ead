// SPDX-License-Identifier: Apache-2.0
// `credgatectl reload`: asks credgated to reload its policies (all or nothing) and prints what
// changed, or every error; exits 1 when the reload was refused.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"

#include <rapidjson/document.h>

#include <cstdio>
#include <string>

namespace credgate::cli {
namespace {

std::string joined(const rapidjson::Value& list) {
    std::string out;
    for (const auto& v : list.GetArray()) out += (out.empty() ? "" : ", ") + std::string(v.GetString());
    return out.empty() ? "-" : out;
}

int run_reload(const ControlTarget& target) {
    auto reply = ask_credgated("reload", target, "POST", "/v1/reload");
    if (!reply) return kExitUnavailable;
    rapidjson::Document d;
    d.Parse(reply->body.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("ok")) {
        report_unusable("reload", *reply);
        return kExitUnavailable;
    }
    for (const auto& w : d["warnings"].GetArray()) std::fprintf(stderr, "%s\n", w.GetString());
    if (!d["ok"].GetBool()) {
        for (const auto& e : d["errors"].GetArray()) std::fprintf(stderr, "%s\n", e.GetString());
        std::fprintf(stderr, "credgatectl reload: refused, %u error(s); the running policy is unchanged\n",
                     d["errors"].Size());
        return kExitFailure;
    }
    std::printf("reloaded: started: %s; restarted: %s; stopped: %s; unchanged: %s\n", joined(d["started"]).c_str(),
                joined(d["restarted"]).c_str(), joined(d["stopped"]).c_str(), joined(d["unchanged"]).c_str());
    return kExitOk;
}

}  // namespace

Subcommand add_reload(CLI::App& parent) {
    auto* app = parent.add_subcommand("reload", "Reload credgated's policies (all or nothing)");
    auto target = std::make_shared<ControlTarget>();
    add_control_options(*app, *target);
    app->footer("Exit codes: 0 reloaded; 1 refused (the running policy is unchanged); 2 usage; 3 credgated could not "
                "be asked (not running, no socket, not root).");
    return {app, [target] { return run_reload(*target); }};
}

}  // namespace credgate::cli
