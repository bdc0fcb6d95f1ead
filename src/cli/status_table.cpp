// SPDX-License-Identifier: Apache-2.0
// status_text: one table row per binding (identity, source, state, file, time left, the last error
// in plain words and how long ago), after lines on enforcement and delivery; then notes and each
// binding's warnings (e.g. a bound program another uid could replace).
#include "cli/status_table.hpp"
#include "cli/table.hpp"

#include "common/time_text.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

namespace credgate::cli {
namespace {

std::string get_string(const rapidjson::Value& v, const char* name, std::string fallback = "") {
    if (v.IsObject() && v.HasMember(name) && v[name].IsString()) return v[name].GetString();
    return fallback;
}

std::string expires_in(const rapidjson::Value& status) {
    if (!status.HasMember("expiresInSeconds") || !status["expiresInSeconds"].IsInt64()) return "-";
    auto s = status["expiresInSeconds"].GetInt64();
    if (s <= 0) return "expired";
    if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

// "12s ago" for an RFC 3339 member, or "" when it is missing or malformed.
std::string ago(const rapidjson::Value& v, const char* name, TimePoint now) {
    auto t = parse_rfc3339(get_string(v, name));
    return t ? relative_to(*t, now) : "";
}

// An error still in force in plain words, with when it happened; one a success has put behind
// only by its class, so no present-tense text ("Vault is sealed") outlives it.
std::string last_error(const rapidjson::Value& status, const std::string& state, TimePoint now) {
    if (state == "BLOCKED") return get_string(status, "message");
    if (!status.HasMember("lastError") || !status["lastError"].IsObject()) return "-";
    const auto& e = status["lastError"];
    std::string where;
    if (e.HasMember("httpStatus") && e["httpStatus"].IsInt() && e["httpStatus"].GetInt() != 0)
        where = fmt::format("HTTP {} on {}", e["httpStatus"].GetInt(), get_string(e, "operation"));
    else
        where = "on " + get_string(e, "operation");
    const std::string when = ago(e, "at", now);
    if (e.HasMember("resolvedAt"))
        return fmt::format("- (last: {}, {}{}; resolved {})", get_string(e, "class"), where,
                           when.empty() ? "" : ", " + when, ago(e, "resolvedAt", now));
    return fmt::format("{} ({}{})", get_string(e, "explanation"), where, when.empty() ? "" : ", " + when);
}

std::string delivery_line(const rapidjson::Value& daemon) {
    if (!daemon.HasMember("delivery") || !daemon["delivery"].IsObject()) return "";
    const auto& d = daemon["delivery"];
    const bool may_swap = d.HasMember("maySwap") && d["maySwap"].IsBool() && d["maySwap"].GetBool();
    std::string line =
        fmt::format("delivery: {} at {} ({}): {}\n", get_string(d, "filesystem"), get_string(d, "root"),
                    may_swap ? "credentials MAY BE SWAPPED" : "never swapped", get_string(d, "reason"));
    if (d.HasMember("sysfs") && d["sysfs"].IsObject()) {
        const auto& k = d["sysfs"];
        const bool loaded = k.HasMember("moduleLoaded") && k["moduleLoaded"].IsBool() && k["moduleLoaded"].GetBool();
        line += loaded ? fmt::format("delivery: credgate.ko loaded, sysfs files under {} (kernel memory only)\n",
                                     get_string(k, "root"))
                       : "delivery: credgate.ko not loaded ('modprobe credgate' to deliver through sysfs)\n";
    }
    return line;
}

}  // namespace

Result<std::string> status_text(std::string_view json, TimePoint now) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("bindings") || !d["bindings"].IsArray())
        return fail(ErrorKind::protocol, "credgated sent a status document that is not valid JSON");
    std::string out;
    const auto& daemon = d["daemon"];
    const std::string mode = get_string(daemon["enforcement"], "mode");
    out += fmt::format("credgated {} (pid {}), trust domain {}, issuer {}\n", get_string(daemon, "version"),
                       daemon["pid"].GetInt64(), get_string(daemon, "trustDomain"), get_string(daemon, "issuer"));
    if (mode == "enforced")
        out += "enforcement: active (BPF LSM)\n";
    else if (mode == "insecure")
        out += fmt::format("enforcement: OFF (--insecure-no-enforcement; development only): {}\n",
                           get_string(daemon["enforcement"], "problem"));
    else
        out += fmt::format("enforcement: unavailable, no secret is published: {}\n",
                           get_string(daemon["enforcement"], "problem"));
    out += delivery_line(daemon);
    if (daemon.HasMember("lastReload") && !daemon["lastReload"]["ok"].GetBool())
        out += fmt::format("last reload FAILED at {}; the running policy is unchanged (see credgatectl reload)\n",
                           get_string(daemon["lastReload"], "at"));
    if (daemon.HasMember("lastClockEvent") && daemon["lastClockEvent"].IsObject())
        out += fmt::format("clock: {} (noticed at {}); {}\n", get_string(daemon["lastClockEvent"], "what"),
                           get_string(daemon["lastClockEvent"], "at"), get_string(daemon["lastClockEvent"], "action"));
    out += "\n";

    std::vector<std::vector<std::string>> rows{
        {"BINDING", "SPIFFE ID", "SOURCE", "STATE", "FILE", "EXPIRES IN", "LAST ERROR"}};
    std::vector<std::string> notes, warnings;
    for (const auto& b : d["bindings"].GetArray()) {
        const auto& st = b["status"];
        const std::string name = get_string(b["metadata"], "name");
        const std::string state = get_string(st, "state");
        std::string file = "-";  // only a file that exists is listed
        for (const char* backend : {"file", "sysfs"}) {
            if (!st.HasMember(backend) || !st[backend].IsObject()) continue;
            const auto& files = st[backend];
            if (files.HasMember("files") && files["files"].IsArray() && !files["files"].Empty())
                file = get_string(files["files"][0], "path");
            if (files.HasMember("note")) notes.push_back(fmt::format("{}: {}", name, get_string(files, "note")));
        }
        if (st.HasMember("counters") && st["counters"].HasMember("revocationsPending") &&
            st["counters"]["revocationsPending"].IsUint64() && st["counters"]["revocationsPending"].GetUint64() > 0)
            notes.push_back(fmt::format("{}: {} login token(s) not revoked yet{}", name,
                                        st["counters"]["revocationsPending"].GetUint64(),
                                        st.HasMember("nextRevocationAt")
                                            ? "; next attempt " + ago(st, "nextRevocationAt", now)
                                            : std::string()));
        if (st.HasMember("warnings") && st["warnings"].IsArray())
            for (const auto& text : st["warnings"].GetArray())
                if (text.IsString()) warnings.push_back(fmt::format("{}: {}", name, text.GetString()));
        rows.push_back({name, get_string(st, "spiffeID"), get_string(b["spec"], "credentialSource"), state, file,
                        expires_in(st), last_error(st, state, now)});
    }
    out += render_table(rows);
    if (rows.size() == 1) out += "(no bindings)\n";
    const char* kStopped = "stoppedBindingsRevocationsPending";
    if (daemon.HasMember(kStopped) && daemon[kStopped].IsUint64() && daemon[kStopped].GetUint64() > 0)
        notes.push_back(fmt::format("{} login token(s) of bindings a reload stopped or restarted not revoked yet",
                                    daemon[kStopped].GetUint64()));
    if (!notes.empty() || !warnings.empty()) out += "\n";
    for (const auto& n : notes) out += "note: " + n + "\n";
    for (const auto& w : warnings) out += "warning: " + w + "\n";
    return out;
}

}  // namespace credgate::cli
