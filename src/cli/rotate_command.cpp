// SPDX-License-Identifier: Apache-2.0
// `credgatectl rotate BINDING`: asks credgated to fetch a fresh secret for one binding now, exactly
// as a scheduled rotation does, and waits for the outcome; -o json|yaml prints the binding afterwards.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"
#include "cli/yaml_emit.hpp"
#include "policy/values.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

namespace credgate::cli {
namespace {

// Beyond credgated's own reply deadline for a rotation (45 s), so its answer is always heard.
constexpr Duration kRotateTimeout{std::chrono::seconds{55}};

struct RotateOptions {
    ControlTarget target;
    std::string name;
    std::string output;  // empty: one line in words
};

std::string member(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

// "rotated 'b': a new secret is delivered (lease 'l', expires at T); ..." from the binding's record.
std::string summary(const std::string& name, const std::string& record) {
    rapidjson::Document d;
    d.Parse(record.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("status") || !d.HasMember("spec"))
        return fmt::format("rotated '{}': a new secret is delivered", name);
    const auto& st = d["status"];
    std::string lease = "no lease";
    if (st.HasMember("lease") && !member(st["lease"], "id").empty())
        lease = fmt::format("lease '{}', expires at {}", member(st["lease"], "id"), member(st, "expiresAt"));
    std::string grace = d["spec"].HasMember("refresh") ? member(d["spec"]["refresh"], "revokeGrace") : "";
    return fmt::format("rotated '{}': a new secret is delivered ({}); the login token it replaced, if any, is "
                       "revoked after revokeGrace ({})",
                       name, lease, grace.empty() ? "?" : grace);
}

int run_rotate(const RotateOptions& o) {
    // Checked here, as credgated checks it: a name is sent in the path as it is, so "a?b" must not ask for "a".
    if (auto error = policy::object_name_error(o.name)) {
        std::fprintf(stderr, "credgatectl rotate: binding %s\n", error->c_str());
        return kExitUsage;
    }
    auto reply = ask_credgated("rotate", o.target, "POST", "/v1/bindings/" + o.name + "/rotate", kRotateTimeout);
    if (!reply) return kExitUnavailable;
    switch (reply->status) {
    case 200: break;
    case 404:
        std::fprintf(stderr, "credgatectl rotate: credgated has no binding named '%s' (see credgatectl status)\n",
                     o.name.c_str());
        return kExitUsage;
    case 409:
        std::fprintf(stderr, "credgatectl rotate: %s; fix that, then run credgatectl reload\n",
                     first_error(reply->body).c_str());
        return kExitBlocked;
    default:
        report_unusable("rotate", *reply);
        return kExitFailure;
    }
    if (!o.output.empty()) return print_document("rotate", reply->body, o.output) ? kExitOk : kExitUnavailable;
    std::printf("%s\n", summary(o.name, reply->body).c_str());
    return kExitOk;
}

}  // namespace

Subcommand add_rotate(CLI::App& parent) {
    auto* app = parent.add_subcommand("rotate", "Fetch a fresh secret for a binding now, as a scheduled rotation does");
    app->footer("As a scheduled rotation: a new login, a new secret delivered, and the login token it replaces "
                "revoked after the binding's revokeGrace. Waits for the outcome.\n"
                "Exit codes: 0 rotated; 1 the rotation failed (the binding keeps its secret); 2 usage, or no binding of "
                "that name; 3 credgated could not be asked; 4 the binding is BLOCKED.");
    auto o = std::make_shared<RotateOptions>();
    add_control_options(*app, o->target);
    app->add_option("binding", o->name, "CredentialBinding name")->required();
    app->add_option("-o,--output", o->output, "print the binding's record afterwards: yaml or json")
        ->check(CLI::IsMember({"yaml", "json"}));
    return {app, [o] { return run_rotate(*o); }};
}

}  // namespace credgate::cli
