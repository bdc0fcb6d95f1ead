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
    app.footer("Exit status: 0 done, 1 the answer is no (an invalid policy, a refused reload, a rotation Vault "
               "refused, a refused handover), 2 usage or nothing to act on (no such binding or pid), 3 credgated could not be asked, "
               "4 the binding is BLOCKED (rotate).");
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
    subcommands.push_back(add_handover(app));

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
