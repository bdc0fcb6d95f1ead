// SPDX-License-Identifier: Apache-2.0
// `credgatectl get binding NAME -o yaml|json`: the resolved CredentialBinding with its status,
// in the shape of `kubectl get credentialbindings -o yaml`.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"
#include "cli/yaml_emit.hpp"
#include "policy/values.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace credgate::cli {
namespace {

struct GetOptions {
    ControlTarget target;
    std::string kind;
    std::string name;
    std::string output = "yaml";
};

int run_get(const GetOptions& o) {
    if (o.kind != "binding" && o.kind != "bindings" && o.kind != "credentialbinding" &&
        o.kind != "credentialbindings") {
        std::fprintf(stderr, "credgatectl get: unknown resource kind '%s'; use 'binding'\n", o.kind.c_str());
        return kExitUsage;
    }
    // Checked here, as credgated checks it: a name is sent in the path as it is, so "a?b" must not ask for "a".
    if (auto error = policy::object_name_error(o.name)) {
        std::fprintf(stderr, "credgatectl get: binding %s\n", error->c_str());
        return kExitUsage;
    }
    auto reply = ask_credgated("get", o.target, "GET", "/v1/bindings/" + o.name);
    if (!reply) return kExitUnavailable;
    if (reply->status == 404) {
        std::fprintf(stderr, "credgatectl get: credgated has no binding named '%s'\n", o.name.c_str());
        return kExitFailure;
    }
    if (reply->status != 200) {
        report_unusable("get", *reply);
        return kExitUnavailable;
    }
    return print_document("get", reply->body, o.output) ? kExitOk : kExitUnavailable;
}

}  // namespace

Subcommand add_get(CLI::App& parent) {
    auto* app =
        parent.add_subcommand("get", "Print a resolved binding with its status (get binding NAME -o yaml|json)");
    auto o = std::make_shared<GetOptions>();
    add_control_options(*app, o->target);
    app->add_option("kind", o->kind, "resource kind: binding")->required();
    app->add_option("name", o->name, "CredentialBinding name")->required();
    app->add_option("-o,--output", o->output, "yaml or json")
        ->check(CLI::IsMember({"yaml", "json"}))
        ->capture_default_str();
    app->footer("Exit codes: 0 printed; 1 credgated has no such binding; 2 usage; 3 credgated could not be asked "
                "(not running, no socket, not root).");
    return {app, [o] { return run_get(*o); }};
}

}  // namespace credgate::cli
