// SPDX-License-Identifier: Apache-2.0
// `credgatectl validate [--config FILE] [PATH...]`: loads settings and policies exactly as
// credgated would, prints every finding, and exits 0 (valid) or 1 (invalid).
#include "cli/subcommand.hpp"
#include "identity/bound_programs.hpp"
#include "policy/loader.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace credgate::cli {
namespace {

struct ValidateOptions {
    std::string config;
    std::vector<std::string> paths;
};

void print(const std::vector<policy::Diagnostic>& diagnostics) {
    for (const auto& d : diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

int run_validate(const ValidateOptions& opts) {
    const bool config_given = !opts.config.empty();
    const std::string config_path = config_given ? opts.config : std::string(policy::kDefaultConfigPath);
    std::error_code ec;
    // A settings file that cannot even be checked for (e.g. EACCES) counts as present: loading it says why.
    const bool config_present = std::filesystem::exists(config_path, ec) || ec;
    if (!config_given && opts.paths.empty() && !config_present) {
        std::fprintf(stderr,
                     "credgatectl validate: no policy paths given and %s does not exist; pass --config FILE or PATH...\n",
                     config_path.c_str());
        return kExitUsage;
    }

    std::vector<policy::Diagnostic> findings;  // everything to print, errors and warnings
    bool failed = false;
    std::optional<policy::AgentConfig> config;
    if (config_given || config_present) {
        auto loaded = policy::load_agent_config(config_path);
        if (loaded) {
            config = std::move(loaded->value);
            findings = std::move(loaded->warnings);
        } else {
            findings = std::move(loaded.error());
            failed = true;
        }
    }

    // With broken settings, the given paths are still checked (without a trust domain) so that one run
    // reports every error; without paths there is nothing more to check.
    std::vector<std::string> paths = opts.paths;
    if (paths.empty() && config) paths.push_back(config->policies_dir);
    std::optional<policy::LoadResult<policy::PolicySet>> loaded;
    if (!paths.empty()) {
        loaded = policy::load_policies(paths, config ? std::optional<std::string>(config->trust_domain) : std::nullopt);
        const auto& more = *loaded ? (*loaded)->warnings : loaded->error();
        findings.insert(findings.end(), more.begin(), more.end());
        failed = failed || !*loaded;
        // Checked against this host (where the programs exist): the machine validate runs on.
        if (*loaded)
            for (const auto& identity : (*loaded)->value.identities) {
                auto host = identity::replaceable_bound_programs(identity);
                findings.insert(findings.end(), host.begin(), host.end());
            }
    }

    print(findings);
    std::size_t errors = 0;
    for (const auto& d : findings) errors += d.severity == policy::Severity::error ? 1 : 0;
    if (failed) {
        std::fprintf(stderr, "invalid: %s, %s\n", plural(errors, "error", "errors").c_str(),
                     plural(findings.size() - errors, "warning", "warnings").c_str());
        return kExitFailure;
    }
    const auto& warnings = findings;

    const auto& set = (*loaded)->value;
    std::vector<std::string> kinds;
    auto count = [&](std::size_t n, std::string_view kind) {
        if (n > 0) kinds.push_back(fmt::format("{} {}", n, kind));
    };
    count(set.services.size(), "Service");
    count(set.sources.size(), "CredentialSource");
    count(set.identities.size(), "WorkloadIdentity");
    count(set.bindings.size(), "CredentialBinding");
    std::size_t objects = set.services.size() + set.sources.size() + set.identities.size() + set.bindings.size();
    std::string summary = fmt::format("valid: {}", plural(objects, "object", "objects"));
    if (!kinds.empty()) summary += fmt::format(" ({})", fmt::join(kinds, ", "));
    summary += fmt::format(" in {}, {}", plural((*loaded)->files.size(), "file", "files"),
                           plural(warnings.size(), "warning", "warnings"));
    if (config) summary += fmt::format("; settings {} (trust domain {})", config_path, config->trust_domain);
    else
        summary += fmt::format("; no settings ({} does not exist): the trust domain is unknown, so workloadIDs "
                               "were checked as SPIFFE paths only",
                               config_path);
    std::printf("%s\n", summary.c_str());
    return kExitOk;
}

}  // namespace

Subcommand add_validate(CLI::App& parent) {
    auto opts = std::make_shared<ValidateOptions>();
    CLI::App* app = parent.add_subcommand(
        "validate", "Check the settings file and policy files (or directories) as credgated would load them");
    app->add_option("--config", opts->config,
                    fmt::format("agent settings file (default {}; optional when PATHs are given and it does not exist)",
                                policy::kDefaultConfigPath));
    app->add_option("paths", opts->paths, "policy files or directories (default: policies.dir from the settings)");
    app->footer("Exit codes: 0 valid; 1 invalid; 2 usage (nothing to check).");
    return Subcommand{app, [opts] { return run_validate(*opts); }};
}

}  // namespace credgate::cli
