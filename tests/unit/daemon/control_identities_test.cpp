// SPDX-License-Identifier: Apache-2.0
// The explain document: the process's facts, each binding's verdict with its reason, every key of
// every alternative, and notes that say when the kernel is not the one deciding.
#include "daemon/control_identities.hpp"

#include <doctest/doctest.h>

#include <rapidjson/document.h>

using namespace credgate;
using namespace credgate::daemon;

namespace {

identity::ProcessFacts facts() {
    identity::ProcessFacts f;
    f.pid = 4242;
    f.exe_path = "/usr/bin/python3.11";
    f.exe = identity::FileKey{(254ull << 20) | 1, 77};
    f.exe_source = identity::ExeSource::proc;
    f.uid = 0;
    f.real_uid = 1000;
    f.gid = 0;
    f.comm = "python3";
    f.cgroup = "/system.slice/agent.service";
    f.cgroup_ids = {1, 2, 3};
    f.unit = "agent.service";
    return f;
}

BindingExplanation denied_by_uid() {
    BindingExplanation b{"agent-key", "ai-agent", "spiffe://example.org/ai-agent", {}, {false, "no selector alternative matches"}};
    identity::AlternativeCheck alt;
    alt.keys.push_back({policy::SelectorKey::process_path, {"/usr/bin/python3"}, {"/usr/bin/python3.11 (254:1 #77)"},
                        "/usr/bin/python3.11 (254:1 #77)", true});
    alt.keys.push_back({policy::SelectorKey::process_uid, {"1000"}, {"uid 1000"}, "uid 0", false});
    alt.runs_program = true;
    b.check.alternatives.push_back(alt);
    return b;
}

}  // namespace

TEST_CASE("explain renders the facts, the verdict and every key beside what the process has") {
    rapidjson::Document d;
    d.Parse(explain_json(facts(), {denied_by_uid()}, "enforced").c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK_FALSE(d["allowed"].GetBool());
    const auto& p = d["process"];
    CHECK(p["pid"].GetInt64() == 4242);
    CHECK(p["uid"].GetUint() == 0);
    CHECK(p["realUID"].GetUint() == 1000);
    CHECK(std::string(p["exeFile"].GetString()) == "254:1 #77");
    CHECK(std::string(p["exeSource"].GetString()) == "proc");
    CHECK(std::string(p["unit"].GetString()) == "agent.service");
    CHECK(p["cgroupIDs"].Size() == 3);
    const auto& b = d["bindings"][0];
    CHECK(std::string(b["binding"].GetString()) == "agent-key");
    CHECK_FALSE(b["allowed"].GetBool());
    CHECK_FALSE(b.HasMember("matchedAlternative"));
    const auto& uid = b["alternatives"][0]["keys"][1];
    CHECK(std::string(uid["key"].GetString()) == "process:uid");
    CHECK(std::string(uid["wants"][0].GetString()) == "1000");
    CHECK(std::string(uid["has"].GetString()) == "uid 0");
    CHECK_FALSE(uid["matched"].GetBool());
    CHECK(b["alternatives"][0]["keys"][0]["matched"].GetBool());
    // Enforcing, but the executed file came from /proc: that is said.
    REQUIRE(d.HasMember("notes"));
    CHECK(d["notes"].Size() == 1);
}

TEST_CASE("explain says when credgated is not enforcing, and is allowed when one binding allows") {
    auto allowed = denied_by_uid();
    allowed.binding = "other-key";
    allowed.verdict = {true, "alternative 1 matches"};
    allowed.check.matched = true;
    allowed.check.alternative = 0;
    rapidjson::Document d;
    d.Parse(explain_json(facts(), {denied_by_uid(), allowed}, "insecure").c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(d["allowed"].GetBool());
    CHECK(d["bindings"][1]["matchedAlternative"].GetUint64() == 1);
    REQUIRE(d.HasMember("notes"));
    CHECK(std::string(d["notes"][0].GetString()).find("not enforcing (insecure)") != std::string::npos);
}
