// SPDX-License-Identifier: Apache-2.0
// `credgatectl identities [-o json|yaml]`: every running process that matches an identity, and
// apart from them the processes that run a binding's program but miss its other keys, with those keys.
#include "cli/control_client.hpp"
#include "cli/control_commands.hpp"
#include "cli/table.hpp"
#include "cli/yaml_emit.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

namespace credgate::cli {
namespace {

constexpr const char* kExitCodes =
    "Exit codes: 0 at least one running process matches an identity; 1 none does; 2 usage; "
    "3 credgated could not be asked (not running, no socket, not root).";

struct IdentitiesOptions {
    ControlTarget target;
    std::string output;  // empty: tables
};

std::string text(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

std::string number(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsNumber() ? fmt::format("{}", v[name].GetInt64()) : "-";
}

std::string joined(const rapidjson::Value& v, const char* name, const char* separator = ", ") {
    std::string out;
    if (v.IsObject() && v.HasMember(name) && v[name].IsArray())
        for (const auto& item : v[name].GetArray())
            if (item.IsString()) out += (out.empty() ? "" : separator) + std::string(item.GetString());
    return out;
}

// The unit when the process runs in one, else its cgroup.
std::string place(const rapidjson::Value& p) {
    const std::string unit = text(p, "unit");
    return unit.empty() ? text(p, "cgroup") : unit;
}

void print_tables(const rapidjson::Document& d) {
    const std::string enforcement = text(d, "enforcement");
    if (enforcement != "enforced")
        std::printf("note: credgated is not enforcing (%s): these are the processes the rules would match\n\n",
                    enforcement.c_str());

    std::vector<TableRow> matches{{"PID", "UID", "EXE", "UNIT/CGROUP", "IDENTITY", "SPIFFE ID", "ALTERNATIVE"}};
    for (const auto& m : d["matches"].GetArray())
        matches.push_back({number(m, "pid"), number(m, "uid"), text(m, "exe"), place(m), text(m, "identity"),
                           text(m, "spiffeID"), number(m, "alternative")});
    if (matches.size() > 1) std::fputs(render_table(matches).c_str(), stdout);
    else std::printf("(no running process matches an identity)\n");

    const auto& misses = d["programMismatches"].GetArray();
    if (!misses.Empty()) {
        std::printf("\nRunning a bound program without matching its identity:\n");
        std::vector<TableRow> rows{{"PID", "UID", "EXE", "UNIT/CGROUP", "IDENTITY", "ALTERNATIVE", "DID NOT MATCH"}};
        for (const auto& m : misses) {
            std::vector<std::string> why;
            for (const auto& k : m["unmatched"].GetArray())
                why.push_back(fmt::format("{} wants {}, has {}", text(k, "key"), joined(k, "wants", " or "), text(k, "has")));
            rows.push_back({number(m, "pid"), number(m, "uid"), text(m, "exe"), place(m), text(m, "identity"),
                            number(m, "alternative"), fmt::format("{}", fmt::join(why, "; "))});
        }
        std::fputs(render_table(rows).c_str(), stdout);
    }

    std::vector<std::string> notes;
    for (const auto& i : d["identities"].GetArray()) {
        if (i.HasMember("refused"))
            notes.push_back(fmt::format("identity {} has no kernel rules, so nothing matches it: {}", text(i, "name"),
                                        text(i, "refused")));
        if (i.HasMember("warnings"))
            for (const auto& w : i["warnings"].GetArray())
                if (w.IsString()) notes.push_back(w.GetString());
    }
    if (!notes.empty()) std::printf("\n");
    for (const auto& n : notes) std::printf("note: %s\n", n.c_str());
}

int run_identities(const IdentitiesOptions& o) {
    auto reply = ask_credgated("identities", o.target, "GET", "/v1/identities");
    if (!reply) return kExitUnavailable;
    rapidjson::Document d;
    d.Parse(reply->body.c_str());
    if (reply->status != 200 || d.HasParseError() || !d.IsObject() || !d.HasMember("matches") ||
        !d["matches"].IsArray() || !d.HasMember("programMismatches") || !d["programMismatches"].IsArray() ||
        !d.HasMember("identities") || !d["identities"].IsArray()) {
        report_unusable("identities", *reply);
        return kExitUnavailable;
    }
    const int rc = d["matches"].Empty() ? kExitFailure : kExitOk;
    if (o.output.empty())
        print_tables(d);
    else if (!print_document("identities", reply->body, o.output))
        return kExitUnavailable;
    return rc;
}

}  // namespace

Subcommand add_identities(CLI::App& parent) {
    auto* app = parent.add_subcommand(
        "identities", "List running processes that match an identity, and those that run a bound program but miss "
                      "another of its keys");
    auto o = std::make_shared<IdentitiesOptions>();
    add_control_options(*app, o->target);
    app->add_option("-o,--output", o->output, "json or yaml (default: tables)")->check(CLI::IsMember({"json", "yaml"}));
    app->footer(kExitCodes);
    return {app, [o] { return run_identities(*o); }};
}

}  // namespace credgate::cli
