// SPDX-License-Identifier: Apache-2.0
// Processes matched against compiled identities, key by key, against a resolver that answers from
// tables: the verdict is the compiled alternative's, and every key shows what it wants and what the
// process has.
#include <doctest/doctest.h>

#include "identity/explain.hpp"
#include "policy/values.hpp"
#include "identity_builders.hpp"
#include "table_resolver.hpp"

using namespace credgate;
using identity::ExeSource;
using identity::FileKey;
using identity::IdentityMatcher;
using identity::ProcessFacts;
using identity::test::identity_of;
using identity::test::term;
using policy::SelectorKey;

namespace {

constexpr FileKey kAgent{(254ull << 20) | 1, 1234};
constexpr FileKey kOther{(254ull << 20) | 1, 999};

identity::test::TableResolver host() {
    identity::test::TableResolver r;
    r.files["/opt/agent/bin/agent"] = kAgent;
    r.files["/usr/bin/other"] = kOther;
    r.hashes["/opt/agent/bin/agent"] = std::string(64, 'a');
    r.users["agent"] = 1000;
    r.units["agent.service"] = 77;
    r.cgroups["/workloads"] = 55;
    return r;
}

// The agent as it runs: recorded by the kernel at exec, uid 1000, in agent.service (cgroup 77).
ProcessFacts agent_process() {
    ProcessFacts f;
    f.pid = 4242;
    f.exe_path = "/opt/agent/bin/agent";
    f.exe = kAgent;
    f.exe_source = ExeSource::kernel;
    f.uid = f.real_uid = 1000;
    f.gid = 1000;
    f.comm = "agent";
    f.cgroup = "/system.slice/agent.service";
    f.cgroup_ids = {1, 20, 77};
    f.unit = "agent.service";
    return f;
}

IdentityMatcher matcher(const policy::WorkloadIdentity& id) {
    auto r = host();
    return IdentityMatcher::compile(id, r, {"/opt/agent/bin/agent", "/usr/bin/other"});
}

const identity::KeyCheck& key_of(const identity::IdentityCheck& c, size_t alternative, SelectorKey key) {
    for (const auto& k : c.alternatives.at(alternative).keys)
        if (k.key == key) return k;
    FAIL("no such key in the alternative");
    throw 0;
}

}  // namespace

TEST_CASE("the agent matches its identity: every key says what it wants, what the process has, and match") {
    auto m = matcher(identity_of({{term(SelectorKey::process_path, {"/opt/agent/bin/agent"}),
                                   term(SelectorKey::process_user, {"agent"}),
                                   term(SelectorKey::systemd_unit, {"agent.service"})}}));
    const auto c = m.check(agent_process());
    CHECK(c.matched);
    REQUIRE(c.alternative);
    CHECK(*c.alternative == 0);
    CHECK(c.refused.empty());
    const auto& path = key_of(c, 0, SelectorKey::process_path);
    CHECK(path.matched);
    CHECK(path.wants == std::vector<std::string>{"/opt/agent/bin/agent"});
    CHECK(path.resolved == std::vector<std::string>{"/opt/agent/bin/agent (254:1 #1234)"});
    CHECK(path.has.find("recorded by the kernel at its exec") != std::string::npos);
    const auto& user = key_of(c, 0, SelectorKey::process_user);
    CHECK(user.matched);
    CHECK(user.resolved == std::vector<std::string>{"uid 1000"});
    CHECK(user.has == "uid 1000");
    const auto& unit = key_of(c, 0, SelectorKey::systemd_unit);
    CHECK(unit.matched);
    CHECK(unit.resolved == std::vector<std::string>{"system.slice/agent.service (cgroup 77)"});
    CHECK(unit.has == "/system.slice/agent.service (cgroup 77)");
    const auto v = identity::credential_verdict(c, agent_process(), false);
    CHECK(v.allowed);
    CHECK(v.reason == "alternative 1 matches");
}

TEST_CASE("the same program run by another uid is denied, naming process:uid and the uid it has") {
    auto m = matcher(identity_of({{term(SelectorKey::process_path, {"/opt/agent/bin/agent"}),
                                   term(SelectorKey::process_uid, {"1000"})}}));
    auto root = agent_process();
    root.uid = root.real_uid = 0;
    const auto c = m.check(root);
    CHECK_FALSE(c.matched);
    CHECK(key_of(c, 0, SelectorKey::process_path).matched);
    const auto& uid = key_of(c, 0, SelectorKey::process_uid);
    CHECK_FALSE(uid.matched);
    CHECK(uid.has == "uid 0");
    CHECK(uid.wants == std::vector<std::string>{"1000"});
    // It runs the bound program but misses another key: what `credgatectl identities` lists apart.
    CHECK(c.alternatives[0].runs_program);
    const auto v = identity::credential_verdict(c, root, false);
    CHECK_FALSE(v.allowed);
    CHECK(v.reason == "no selector alternative matches (alternative 1: process:uid did not match)");
}

TEST_CASE("another program is not counted as running the bound program") {
    auto m = matcher(identity_of({{term(SelectorKey::process_path, {"/opt/agent/bin/agent"}),
                                   term(SelectorKey::process_uid, {"1000"})}}));
    auto other = agent_process();
    other.exe = kOther;
    const auto c = m.check(other);
    CHECK_FALSE(c.matched);
    CHECK_FALSE(c.alternatives[0].runs_program);
    CHECK_FALSE(key_of(c, 0, SelectorKey::process_path).matched);
    CHECK(key_of(c, 0, SelectorKey::process_path).has.find("/usr/bin/other") != std::string::npos);
}

TEST_CASE("a process with no exec record matches no process:path rule, as in the kernel") {
    auto m = matcher(identity_of({{term(SelectorKey::process_path, {"/opt/agent/bin/agent"})}}));
    auto early = agent_process();
    early.exe_source = ExeSource::none;  // what /proc says about its image does not count
    const auto c = m.check(early);
    CHECK_FALSE(c.matched);
    CHECK(key_of(c, 0, SelectorKey::process_path).has.find("no record of its exec") != std::string::npos);
}

TEST_CASE("process:sha256 compiles to the candidate with that content, and the key shows its path") {
    auto m = matcher(identity_of({{term(SelectorKey::process_sha256, {std::string(64, 'a')}),
                                   term(SelectorKey::process_uid, {"1000"})}}));
    const auto c = m.check(agent_process());
    CHECK(c.matched);
    CHECK(key_of(c, 0, SelectorKey::process_sha256).resolved ==
          std::vector<std::string>{"/opt/agent/bin/agent (254:1 #1234)"});
}

TEST_CASE("a cgroup rule matches the task's cgroup or an ancestor, within the kernel's depth") {
    auto m = matcher(identity_of({{term(SelectorKey::cgroup_path, {"/workloads"}),
                                   term(SelectorKey::process_uid, {"1000"})}}));
    auto p = agent_process();
    p.cgroup = "/workloads/job-1";
    p.cgroup_ids = {1, 55, 56};
    CHECK(m.check(p).matched);
    p.cgroup_ids.assign(CREDGATE_MAX_CGROUP_DEPTH, 9);
    p.cgroup_ids.push_back(55);  // deeper than the kernel looks
    CHECK_FALSE(m.check(p).matched);
}

TEST_CASE("process:name compares the 15 bytes of comm the kernel keeps") {
    auto m = matcher(identity_of({{term(SelectorKey::process_name, {"a-very-long-agent-name"}),
                                   term(SelectorKey::process_uid, {"1000"})}}));
    auto p = agent_process();
    p.comm = "a-very-long-age";
    CHECK(m.check(p).matched);
    p.comm = "a-very-long-ag";
    const auto c = m.check(p);
    CHECK_FALSE(c.matched);
    CHECK(key_of(c, 0, SelectorKey::process_name).resolved == std::vector<std::string>{"a-very-long-age"});
}

TEST_CASE("the first matching alternative is named, and the others still show their keys") {
    auto m = matcher(identity_of({{term(SelectorKey::process_uid, {"2000"}), term(SelectorKey::process_path, {"/usr/bin/other"})},
                                  {term(SelectorKey::process_path, {"/opt/agent/bin/agent"}),
                                   term(SelectorKey::process_uid, {"1000"})}}));
    const auto c = m.check(agent_process());
    CHECK(c.matched);
    CHECK(*c.alternative == 1);
    CHECK_FALSE(c.alternatives[0].matched);
    CHECK_FALSE(key_of(c, 0, SelectorKey::process_uid).matched);
    CHECK(c.alternatives[1].matched);
    CHECK(identity::credential_verdict(c, agent_process(), false).reason == "alternative 2 matches");
}

TEST_CASE("an alternative's verdict is exactly its keys all matching, whatever the facts") {
    auto m = matcher(identity_of({{term(SelectorKey::process_path, {"/opt/agent/bin/agent"}),
                                   term(SelectorKey::process_uid, {"1000"}), term(SelectorKey::process_gid, {"1000"}),
                                   term(SelectorKey::systemd_unit, {"agent.service"}),
                                   term(SelectorKey::process_name, {"agent"})}}));
    for (int bits = 0; bits < 32; ++bits) {
        auto p = agent_process();
        if (bits & 1) p.exe = kOther;
        if (bits & 2) p.uid = 0;
        if (bits & 4) p.gid = 0;
        if (bits & 8) p.cgroup_ids = {1, 20, 78};
        if (bits & 16) p.comm = "intruder";
        const auto c = m.check(p);
        bool all = true;
        for (const auto& k : c.alternatives[0].keys) all = all && k.matched;
        CAPTURE(bits);
        CHECK(c.matched == all);
        CHECK(c.matched == (bits == 0));
    }
}

TEST_CASE("a traced process is refused although it matches; credgated itself is allowed") {
    auto m = matcher(identity_of({{term(SelectorKey::process_path, {"/opt/agent/bin/agent"}),
                                   term(SelectorKey::process_uid, {"1000"})}}));
    auto traced = agent_process();
    traced.traced = true;
    const auto c = m.check(traced);
    CHECK(c.matched);
    const auto v = identity::credential_verdict(c, traced, false);
    CHECK_FALSE(v.allowed);
    CHECK(v.reason.find("a tracer is attached") != std::string::npos);
    auto stranger = agent_process();
    stranger.uid = 0;
    CHECK(identity::credential_verdict(m.check(stranger), stranger, true).allowed);
}

TEST_CASE("an identity that cannot be compiled is refused and matches nobody, saying why") {
    auto m = matcher(identity_of({{term(SelectorKey::process_name, {"agent"})}}));  // weak only
    CHECK_FALSE(m.refused().empty());
    const auto c = m.check(agent_process());
    CHECK_FALSE(c.matched);
    CHECK(c.refused == m.refused());
    // The key still shows what it would compile to, beside the process's comm.
    CHECK(key_of(c, 0, SelectorKey::process_name).matched);
    const auto v = identity::credential_verdict(c, agent_process(), false);
    CHECK_FALSE(v.allowed);
    CHECK(v.reason.find("cannot be turned into kernel rules") != std::string::npos);
}
