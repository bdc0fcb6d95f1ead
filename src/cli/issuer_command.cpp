// SPDX-License-Identifier: Apache-2.0
// `credgatectl issuer`: the exact `bao`/`vault` commands that point Vault's JWT auth at this node's
// issuer, and a role per binding whose token lives as long as the secret it reads, and not much longer.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"
#include "policy/values.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>

namespace credgate::cli {
namespace {

// Without a secret read yet, the role's token_ttl must still cover the seed's max_ttl.
constexpr long long kDefaultTokenTtlSeconds = 3600;

std::string str(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

std::string duration(long long s) { return policy::format_duration(std::chrono::seconds{s}); }

// Values are double-quoted for the shell; the JSON-ish values we print never contain '"' or '$'.
std::string q(const std::string& s) {
    return "\"" + s + "\"";
}

// The token_ttl advised for a role, and why. Not shorter than what the token must keep alive (a
// lease dies with the token that read it); not much longer, since a leaked token should not
// outlive its use. credgated keeps a superseded token for the revoke grace after the next publish.
struct TokenTtlAdvice {
    long long seconds = 0;
    std::string reason;
};

TokenTtlAdvice advise_token_ttl(const rapidjson::Value& b) {
    const long long lease = b["leaseSeconds"].GetInt64();
    const long long grace = b["revokeGraceSeconds"].GetInt64();
    const bool read = b.HasMember("secretRead") && b["secretRead"].IsBool() && b["secretRead"].GetBool();
    TokenTtlAdvice a;
    if (lease > 0) {
        a.seconds = lease + grace;
        a.reason = fmt::format("the secret's lease ({}) plus the revoke grace ({}): the key dies with its token, so "
                               "not shorter; a leaked token should not outlive its use, so not longer",
                               duration(lease), duration(grace));
    } else if (read) {
        const long long interval = b.HasMember("staticIntervalSeconds") ? b["staticIntervalSeconds"].GetInt64() : 300;
        a.seconds = interval + grace;
        a.reason = fmt::format("the secret has no lease and is re-read every {} (plus the revoke grace, {}): a leaked "
                               "token should not outlive its use",
                               duration(interval), duration(grace));
    } else {
        a.seconds = kDefaultTokenTtlSeconds;
        a.reason = fmt::format("no secret read yet, so {} is assumed; run credgatectl issuer again after the first "
                               "read for a value a little above the secret's lease",
                               duration(kDefaultTokenTtlSeconds));
    }
    a.seconds = ((a.seconds + 59) / 60) * 60;
    return a;
}

int run_issuer(const ControlTarget& target, const std::string& cli) {
    auto reply = ask_credgated("issuer", target, "GET", "/v1/issuer");
    if (!reply) return kExitUnavailable;
    if (reply->status != 200) {
        report_unusable("issuer", *reply);
        return kExitUnavailable;
    }
    rapidjson::Document d;
    d.Parse(reply->body.c_str());
    if (d.HasParseError() || !d.IsObject()) {
        std::fprintf(stderr, "credgatectl issuer: credgated sent a document that is not valid JSON\n");
        return kExitUnavailable;
    }
    const std::string url = str(d, "issuer");
    const bool key_file = d.HasMember("keyFile");
    std::printf("# credgated's JWT-SVID issuer: %s (%s, key %s)\n", url.c_str(), str(d, "algorithm").c_str(),
                str(d, "currentKid").c_str());
    std::printf(
        "# Run these with a Vault/OpenBao token that may manage auth methods and policies ('%s' and '%s' take the same "
        "arguments).\n\n",
        cli == "bao" ? "bao" : "vault", cli == "bao" ? "vault" : "bao");

    std::set<std::string> mounts;
    for (const auto& b : d["bindings"].GetArray()) mounts.insert(str(b, "authMount"));
    if (mounts.empty()) mounts.insert("jwt");
    for (const auto& m : mounts) {
        const std::string enable = m == "jwt" ? "" : " -path=" + m;
        std::printf("%s auth enable%s jwt\n", cli.c_str(), enable.c_str());
        if (key_file) {
            std::printf("# The issuer signs with the persisted key '%s'; Vault verifies with its public key:\n",
                        str(d, "keyFile").c_str());
            std::printf("cat > credgate-issuer.pem <<'EOF'\n%sEOF\n", str(d, "publicKeyPEM").c_str());
            std::printf("%s write auth/%s/config jwt_validation_pubkeys=@credgate-issuer.pem bound_issuer=%s\n\n",
                        cli.c_str(), m.c_str(), q(url).c_str());
        } else {
            std::printf("%s write auth/%s/config oidc_discovery_url=%s\n", cli.c_str(), m.c_str(), q(url).c_str());
            std::printf(
                "# or, to fetch the keys without discovery:\n# %s write auth/%s/config jwks_url=%s bound_issuer=%s\n\n",
                cli.c_str(), m.c_str(), q(str(d, "jwksURL")).c_str(), q(url).c_str());
        }
    }

    for (const auto& b : d["bindings"].GetArray()) {
        const std::string name = str(b, "name");
        const std::string role = str(b, "role");
        const std::string policy_name = "credgate-" + name;
        std::string audiences;
        for (const auto& a : b["audience"].GetArray())
            audiences += (audiences.empty() ? "" : ",") + std::string(a.GetString());
        const TokenTtlAdvice ttl = advise_token_ttl(b);
        std::printf("# Binding '%s' (%s) reads %s from %s\n", name.c_str(), str(b, "spiffeID").c_str(),
                    str(b, "path").c_str(), str(b, "vaultAddress").c_str());
        if (b.HasMember("namespace"))
            std::printf("# (in namespace '%s': add -namespace=%s to each command)\n", str(b, "namespace").c_str(),
                        str(b, "namespace").c_str());
        std::printf("%s policy write %s - <<'EOF'\npath \"%s\" {\n  capabilities = [\"read\"]\n}\nEOF\n", cli.c_str(),
                    policy_name.c_str(), str(b, "path").c_str());
        std::printf(
            "%s write auth/%s/role/%s \\\n    role_type=jwt user_claim=sub bound_audiences=%s \\\n"
            "    bound_subject=%s \\\n    token_policies=%s token_type=service \\\n"
            "    token_num_uses=0 token_ttl=%s token_max_ttl=%s\n",
            cli.c_str(), str(b, "authMount").c_str(), role.c_str(), q(audiences).c_str(), q(str(b, "spiffeID")).c_str(),
            policy_name.c_str(), duration(ttl.seconds).c_str(), duration(ttl.seconds).c_str());
        std::printf("# token_ttl=%s: %s. token_max_ttl=%s keeps renew-self from stretching it.\n\n",
                    duration(ttl.seconds).c_str(), ttl.reason.c_str(), duration(ttl.seconds).c_str());
    }
    return kExitOk;
}

}  // namespace

Subcommand add_issuer(CLI::App& parent) {
    auto* app =
        parent.add_subcommand("issuer", "Print the bao/vault commands that make Vault trust this node's issuer");
    auto target = std::make_shared<ControlTarget>();
    auto cli = std::make_shared<std::string>("bao");
    add_control_options(*app, *target);
    app->add_option("--cli", *cli, "command name to print: bao or vault")
        ->check(CLI::IsMember({"bao", "vault"}))
        ->capture_default_str();
    app->footer("Exit codes: 0 printed; 2 usage; 3 credgated could not be asked (not running, no socket, not root).");
    return {app, [target, cli] { return run_issuer(*target, *cli); }};
}

}  // namespace credgate::cli
