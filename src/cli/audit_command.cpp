// SPDX-License-Identifier: Apache-2.0
// `credgatectl audit [--follow] [--binding B] [--verdict V] [-o json]`: the kernel's decisions that
// credgated read from its audit ring buffer, one JSON object a line; --follow waits for new ones.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace credgate::cli {
namespace {

constexpr const char* kExitCodes =
    "Exit codes: 0 at least one decision printed; 1 none matches; 2 usage, or no such binding; 3 credgated "
    "could not be asked (not running, no socket, not root) or went away while following. --follow runs until "
    "interrupted (Ctrl-C).";

struct AuditOptions {
    ControlTarget target;
    bool follow = false;
    std::string binding;
    std::string verdict;
    std::string output = "json";
};

enum class Outcome { ok, usage, unavailable };

struct Cursor {
    uint64_t since = 0;
    uint64_t printed = 0;
    bool warned_not_enforcing = false;
};

// One request; prints its events and moves the cursor. `more` is set when another page waits.
Outcome fetch(const AuditOptions& o, Cursor& c, bool wait, bool& more) {
    std::string path = fmt::format("/v1/audit?since={}", c.since);
    if (!o.binding.empty()) path += "&binding=" + query_value(o.binding);
    if (!o.verdict.empty()) path += "&verdict=" + query_value(o.verdict);
    if (wait) path += "&wait=1";
    auto reply = ask_credgated("audit", o.target, "GET", path);
    if (!reply) return Outcome::unavailable;
    if (reply->status == 404 || reply->status == 400) {
        std::fprintf(stderr, "credgatectl audit: %s\n", first_error(reply->body).c_str());
        return Outcome::usage;
    }
    rapidjson::Document d;
    d.Parse(reply->body.c_str());
    if (reply->status != 200 || d.HasParseError() || !d.IsObject() || !d.HasMember("events") ||
        !d["events"].IsArray() || !d.HasMember("next") || !d["next"].IsUint64()) {
        report_unusable("audit", *reply);
        return Outcome::unavailable;
    }
    const std::string enforcement =
        d.HasMember("enforcement") && d["enforcement"].IsString() ? d["enforcement"].GetString() : "";
    if (enforcement != "enforced" && !c.warned_not_enforcing) {
        std::fprintf(stderr, "credgatectl audit: credgated is not enforcing (%s): the kernel makes no decisions to "
                             "report\n",
                     enforcement.c_str());
        c.warned_not_enforcing = true;
    }
    // Only a reader that had already read up to `since` lost anything; a first read starts at what is held.
    if (c.since > 0 && d.HasMember("missed") && d["missed"].IsUint64() && d["missed"].GetUint64() > 0)
        std::fprintf(stderr, "credgatectl audit: %llu decision(s) were dropped from credgated's ring before they "
                             "were read\n",
                     static_cast<unsigned long long>(d["missed"].GetUint64()));
    for (const auto& e : d["events"].GetArray()) {
        rapidjson::StringBuffer sb;
        rapidjson::Writer<rapidjson::StringBuffer> w(sb);
        e.Accept(w);
        std::printf("%s\n", sb.GetString());
        ++c.printed;
    }
    std::fflush(stdout);  // a reader at the other end of a pipe sees each decision as it comes
    c.since = d["next"].GetUint64();
    more = d.HasMember("more") && d["more"].IsBool() && d["more"].GetBool();
    return Outcome::ok;
}

int exit_code(Outcome outcome) {
    return outcome == Outcome::usage ? kExitUsage : kExitUnavailable;
}

int run_audit(const AuditOptions& o) {
    Cursor c;
    bool more = true;
    while (more)
        if (auto r = fetch(o, c, false, more); r != Outcome::ok) return exit_code(r);
    if (!o.follow) return c.printed > 0 ? kExitOk : kExitFailure;
    while (true)  // each request is held by credgated until a decision comes (or answered empty after a while)
        if (auto r = fetch(o, c, true, more); r != Outcome::ok) return exit_code(r);
}

}  // namespace

Subcommand add_audit(CLI::App& parent) {
    auto* app = parent.add_subcommand(
        "audit", "Print the kernel's recent decisions on credentials and protected processes as JSON lines");
    auto o = std::make_shared<AuditOptions>();
    add_control_options(*app, o->target);
    app->add_flag("-f,--follow", o->follow, "after the recent decisions, print new ones as they happen");
    app->add_option("--binding", o->binding, "only decisions on this CredentialBinding's files");
    app->add_option("--verdict", o->verdict, "allow, deny (also audit-deny: what audit mode let through) or audit-deny")
        ->check(CLI::IsMember({"allow", "deny", "audit-deny"}));
    app->add_option("-o,--output", o->output, "json (one object a line)")
        ->check(CLI::IsMember({"json"}))
        ->capture_default_str();
    app->footer(kExitCodes);
    return {app, [o] { return run_audit(*o); }};
}

}  // namespace credgate::cli
