// SPDX-License-Identifier: Apache-2.0
// credgated: parses the command line, builds the App on one event loop and runs it.
#include "common/log.hpp"
#include "daemon/app.hpp"
#include "daemon/build_info.hpp"
#include "policy/loader.hpp"
#include "protection/protection.hpp"
#include "runtime/event_loop.hpp"

#include <CLI/CLI.hpp>

#include <csignal>

int main(int argc, char** argv) {
    using namespace credgate;
    CLI::App cli{"credgated: delivers short-lived secrets from Vault/OpenBao to the one process bound to them"};
    daemon::AppOptions options;
    options.config_path = policy::kDefaultConfigPath;
    bool debug = false;
    bool check_only = false;
    cli.add_option("-c,--config", options.config_path, "agent settings file")->capture_default_str();
    cli.add_flag("--insecure-no-enforcement", options.insecure_no_enforcement,
                 "publish secrets even when the kernel cannot enforce who reads them (development only)");
    cli.add_flag("--debug", debug, "log debug messages");
    cli.add_flag("--check-enforcement", check_only,
                 "report whether this kernel can enforce (exit 0) or what is missing (exit 1), then exit");
    cli.set_version_flag("--version", daemon::kVersion);
    CLI11_PARSE(cli, argc, argv);
    if (!debug) log::set_max_level(log::Level::info);
    if (check_only) {
        const auto check = protection::check_enforcement();
        if (check.supported) {
            fmt::print("enforcement: supported (BPF LSM programs load and attach)\n");
            return 0;
        }
        fmt::print("enforcement: unsupported: {}\n", check.problem);
        return 1;
    }

    // A write to a closed socket must be an error on that socket, not the end of the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    runtime::EventLoop loop;
    auto app = daemon::App::create(loop, options);
    if (!app) return 1;  // App::create logged why
    loop.run();
    app->reset();
    return 0;
}
