// SPDX-License-Identifier: Apache-2.0
// `credgatectl explain --pid P [--binding B] [-o json|yaml]`: whether a process may read a binding's
// file, alternative by alternative and key by key, each fact of the process beside what the rule wants.
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
    "Exit codes: 0 the process may read the binding's file (without --binding: at least one binding's); "
    "1 it may not; 2 usage, or no such process or binding; 3 credgated could not be asked (not running, no "
    "socket, not root).";

struct ExplainOptions {
    ControlTarget target;
    long pid = 0;
    std::string binding;
    std::string output;  // empty: text
};

std::string text(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

std::string joined(const rapidjson::Value& v, const char* name, const char* separator) {
    std::string out;
    if (v.IsObject() && v.HasMember(name) && v[name].IsArray())
        for (const auto& item : v[name].GetArray())
            if (item.IsString()) out += (out.empty() ? "" : separator) + std::string(item.GetString());
    return out.empty() ? "-" : out;
}

bool flag(const rapidjson::Value& v, const char* name) {
    return v.IsObject() && v.HasMember(name) && v[name].IsBool() && v[name].GetBool();
}

void print_text(const rapidjson::Document& d) {
    const auto& p = d["process"];
    std::string line = fmt::format("process {}: exe {}", p["pid"].GetInt64(), text(p, "exe"));
    if (p.HasMember("exeFile")) line += fmt::format(" ({})", text(p, "exeFile"));
    line += fmt::format(", uid {}", p["uid"].GetUint());
    if (p.HasMember("realUID")) line += fmt::format(" (real uid {})", p["realUID"].GetUint());
    line += fmt::format(", gid {}, comm {}, cgroup {}", p["gid"].GetUint(), text(p, "comm"), text(p, "cgroup"));
    if (p.HasMember("unit")) line += fmt::format(" (unit {})", text(p, "unit"));
    if (flag(p, "traced")) line += ", TRACED";
    std::printf("%s\n", line.c_str());
    if (d.HasMember("notes"))
        for (const auto& n : d["notes"].GetArray()) std::printf("note: %s\n", n.GetString());

    for (const auto& b : d["bindings"].GetArray()) {
        std::printf("\nbinding %s (identity %s, %s): %s: %s\n", text(b, "binding").c_str(), text(b, "identity").c_str(),
                    text(b, "spiffeID").c_str(), flag(b, "allowed") ? "ALLOWED" : "DENIED", text(b, "reason").c_str());
        for (const auto& a : b["alternatives"].GetArray()) {
            std::printf("  alternative %lld: %s\n", static_cast<long long>(a["alternative"].GetInt64()),
                        flag(a, "matched") ? "matches" : "does not match");
            std::vector<TableRow> rows{{"KEY", "WANTS", "COMPILED TO", "PROCESS HAS", "RESULT"}};
            for (const auto& k : a["keys"].GetArray())
                rows.push_back({text(k, "key"), joined(k, "wants", " or "), joined(k, "compiledTo", " or "),
                                text(k, "has"), flag(k, "matched") ? "match" : "NO MATCH"});
            std::fputs(render_table(rows, 4).c_str(), stdout);
        }
    }
    if (d["bindings"].Empty()) std::printf("\n(credgated has no bindings)\n");
}

int run_explain(const ExplainOptions& o) {
    std::string path = fmt::format("/v1/explain?pid={}", o.pid);
    if (!o.binding.empty()) path += "&binding=" + query_value(o.binding);
    auto reply = ask_credgated("explain", o.target, "GET", path);
    if (!reply) return kExitUnavailable;
    if (reply->status == 404 || reply->status == 400) {
        std::fprintf(stderr, "credgatectl explain: %s\n", first_error(reply->body).c_str());
        return kExitUsage;
    }
    rapidjson::Document d;
    d.Parse(reply->body.c_str());
    if (reply->status != 200 || d.HasParseError() || !d.IsObject() || !d.HasMember("process") ||
        !d["process"].IsObject() || !d.HasMember("bindings") || !d["bindings"].IsArray() || !d.HasMember("allowed")) {
        report_unusable("explain", *reply);
        return kExitUnavailable;
    }
    const int rc = flag(d, "allowed") ? kExitOk : kExitFailure;
    if (o.output.empty())
        print_text(d);
    else if (!print_document("explain", reply->body, o.output))
        return kExitUnavailable;
    return rc;
}

}  // namespace

Subcommand add_explain(CLI::App& parent) {
    auto* app = parent.add_subcommand(
        "explain", "Explain whether a process may read a binding's file: every selector key beside the process's facts");
    auto o = std::make_shared<ExplainOptions>();
    add_control_options(*app, o->target);
    app->add_option("--pid", o->pid, "the process")->required()->check(CLI::PositiveNumber);
    app->add_option("--binding", o->binding, "one CredentialBinding (default: every binding)");
    app->add_option("-o,--output", o->output, "json or yaml (default: text)")->check(CLI::IsMember({"json", "yaml"}));
    app->footer(kExitCodes);
    return {app, [o] { return run_explain(*o); }};
}

}  // namespace credgate::cli
