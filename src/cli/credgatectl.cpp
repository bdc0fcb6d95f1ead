// SPDX-License-Identifier: Apache-2.0
// credgatectl: the operator's command line. Dispatches to one subcommand per file.
#include "cli/control_commands.hpp"
#include "cli/subcommand.hpp"
#include "runtime/event_loop.hpp"

#include <vector>

int main(int argc, char** argv) {
    using namespace credgate::cli;
    CLI::App app{"credgatectl: inspect, validate and convert credgate policies and the running credgated"};
    app.require_subcommand(1);
    app.footer("Exit status: 0 done, 1 failed or found a problem (an invalid policy, a refused reload, a rotation "
               "Vault refused, credgated not reachable), 2 usage; rotate also 3 (no such binding) and 4 (the "
               "binding is BLOCKED).");
    // The real clock; no handler ever runs on this loop.
    credgate::runtime::EventLoop loop;

    std::vector<Subcommand> subcommands;
    subcommands.push_back(add_validate(app));
    subcommands.push_back(add_convert(app));
    subcommands.push_back(add_status(app, loop.clock()));
    subcommands.push_back(add_get(app));
    subcommands.push_back(add_issuer(app));
    subcommands.push_back(add_reload(app));
    subcommands.push_back(add_identities(app));
    subcommands.push_back(add_explain(app));
    subcommands.push_back(add_audit(app));
    subcommands.push_back(add_rotate(app));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }
    for (auto& s : subcommands)
        if (s.app->parsed()) return s.run();
    return kExitUsage;
}
