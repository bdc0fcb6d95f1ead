// SPDX-License-Identifier: Apache-2.0
// CgroupWatch against a fake cgroup tree in a temp dir with real inotify: units and cgroups that
// start, stop and restart are followed; a delegated subtree is not. Debounce timers are fired by
// hand. Needs root (the resolver accepts only root-owned slices; the imposter is chowned).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "protection/cgroup_watch.hpp"
#include "runtime/event_loop.hpp"
#include "support/fake_cgroup_tree.hpp"
#include "support/manual_clock.hpp"
#include "support/root_only_main.hpp"

using namespace credgate;
using namespace credgate::protection;
using credgate::test::FakeCgroupTree;

namespace {

// Longest wait for an inotify event that must come (a deadline, not a sleep).
constexpr std::chrono::seconds kEventDeadline{10};

// A watch on a fake tree whose apply records every call; the debounce runs on a manual clock.
struct Fixture {
    FakeCgroupTree tree;
    runtime::EventLoop loop;
    ManualClock clock;
    std::vector<std::vector<CgroupChange>> applies;
    int failures_to_come = 0;
    std::unique_ptr<CgroupWatch> watch;

    Fixture() {
        CgroupWatchOptions o;
        o.cgroup_root = tree.root();
        auto w = CgroupWatch::create(loop, clock, o, [this](const std::vector<CgroupChange>& changes) -> Result<void> {
            applies.push_back(changes);
            if (failures_to_come > 0) {
                --failures_to_come;
                return fail(ErrorKind::internal, "the kernel refused the rule set");
            }
            return {};
        });
        REQUIRE(w);
        watch = std::move(*w);
    }

    void follow(std::vector<WatchedCgroup> selectors) {
        auto baseline = watch->resolve(selectors);
        watch->follow(std::move(selectors), std::move(baseline));
    }

    // Runs the loop until the watch has a change waiting for its debounce; false at the deadline.
    bool event_arrives() {
        bool late = false;
        auto deadline = loop.clock().make_timer();
        deadline->arm(loop.clock().now() + kEventDeadline, [&] { late = true; });
        loop.run_until([&] { return watch->pending() || late; });
        return watch->pending();
    }
};

WatchedCgroup unit(const std::string& name, std::vector<std::string> identities = {"ai-agent"}) {
    return {policy::SelectorKey::systemd_unit, name, std::move(identities)};
}

WatchedCgroup path(const std::string& value) { return {policy::SelectorKey::cgroup_path, value, {"ai-agent"}}; }

}  // namespace

TEST_CASE("a unit that starts in system.slice is followed: one apply after the debounce, naming unit and identity") {
    Fixture f;
    f.tree.mkdir("system.slice");
    f.follow({unit("agent.service")});
    CHECK_FALSE(f.watch->pending());

    f.tree.mkdir("system.slice/agent.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce - Duration{1});
    CHECK(f.applies.empty());
    f.clock.advance(Duration{1});
    REQUIRE(f.applies.size() == 1);
    REQUIRE(f.applies[0].size() == 1);
    const auto& c = f.applies[0][0];
    CHECK_FALSE(c.before.id);
    CHECK(c.after.id == f.tree.id("system.slice/agent.service"));
    CHECK(c.after.path == "system.slice/agent.service");
    CHECK(describe(c).starts_with("systemd:unit 'agent.service' started (cgroup 'system.slice/agent.service', id "));
    CHECK(describe(c).ends_with("the rules of WorkloadIdentity 'ai-agent' follow it"));
}

TEST_CASE("a unit that stops and starts again is followed each time, with its new cgroup id") {
    Fixture f;
    f.tree.mkdir("system.slice");
    f.tree.mkdir("system.slice/agent.service");
    const uint64_t first = f.tree.id("system.slice/agent.service");
    f.follow({unit("agent")});  // no suffix: a .service

    f.tree.rmdir("system.slice/agent.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 1);
    CHECK(f.applies[0][0].before.id == first);
    CHECK_FALSE(f.applies[0][0].after.id);
    CHECK(describe(f.applies[0][0]).find("stopped") != std::string::npos);
    CHECK(describe(f.applies[0][0]).find("matches no process through it until it starts again") != std::string::npos);

    f.tree.mkdir("system.slice/agent.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 2);
    CHECK(f.applies[1][0].after.id == f.tree.id("system.slice/agent.service"));

    // Stopped and started within one debounce: one apply, the unit restarted with a new id. cgroup2
    // never reuses an id; a file system may reuse an inode number at once, so the new directory is
    // made before the old one goes and renamed into place.
    const uint64_t second = f.tree.id("system.slice/agent.service");
    f.tree.mkdir("system.slice/next");
    f.tree.rmdir("system.slice/agent.service");
    f.tree.rename("system.slice/next", "system.slice/agent.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 3);
    CHECK(f.applies[2][0].before.id == second);
    CHECK(f.applies[2][0].after.id == f.tree.id("system.slice/agent.service"));
    CHECK(second != f.tree.id("system.slice/agent.service"));
    CHECK(describe(f.applies[2][0]).find("restarted") != std::string::npos);
}

TEST_CASE("a same-named cgroup in a user's delegated subtree changes nothing") {
    Fixture f;
    f.tree.mkdir("system.slice");
    f.tree.mkdir("user.slice");
    f.tree.mkdir("user.slice/user-1001.slice");
    f.follow({unit("agent.service")});
    const size_t watched = f.watch->watched_directories();

    f.tree.mkdir("user.slice/user-1001.slice/user@1001.service");
    f.tree.chown("user.slice/user-1001.slice/user@1001.service", 1001);
    f.tree.mkdir("user.slice/user-1001.slice/user@1001.service/agent.service");
    f.tree.chown("user.slice/user-1001.slice/user@1001.service/agent.service", 1001);
    // A relevant event after the imposter's: inotify keeps order, so by then the imposter's would
    // have arrived too.
    f.tree.mkdir("late.slice");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    CHECK(f.applies.empty());
    CHECK(f.watch->watched_directories() == watched + 1);  // late.slice; never the delegated subtree

    f.tree.mkdir("system.slice/agent.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 1);
    CHECK(f.applies[0][0].after.path == "system.slice/agent.service");
}

TEST_CASE("a new slice is watched, and a unit made in it before the watch is still followed") {
    Fixture f;
    f.follow({unit("x.service")});
    f.tree.mkdir("foo.slice");
    f.tree.mkdir("foo.slice/x.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 1);
    CHECK(f.applies[0][0].after.path == "foo.slice/x.service");

    f.tree.rmdir("foo.slice/x.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 2);
    CHECK_FALSE(f.applies[1][0].after.id);
}

TEST_CASE("a cgroup:path is followed even when its parents do not exist yet") {
    Fixture f;
    f.follow({path("/app/worker")});
    f.tree.mkdir("app");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    CHECK(f.applies.empty());  // an ancestor: watched now, nothing resolved differently

    f.tree.mkdir("app/worker");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 1);
    CHECK(f.applies[0][0].after.id == f.tree.id("app/worker"));
    CHECK(describe(f.applies[0][0]).starts_with("cgroup:path '/app/worker' appeared (cgroup 'app/worker', id "));
}

TEST_CASE("a failed apply keeps the old rules' baseline and is retried until it succeeds") {
    Fixture f;
    f.tree.mkdir("system.slice");
    f.follow({unit("agent.service")});
    f.failures_to_come = 1;
    f.tree.mkdir("system.slice/agent.service");
    REQUIRE(f.event_arrives());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 1);
    CHECK(f.watch->pending());
    f.clock.advance(kCgroupApplyRetry - Duration{1});
    CHECK(f.applies.size() == 1);
    f.clock.advance(Duration{1});
    REQUIRE(f.applies.size() == 2);
    CHECK(f.applies[1][0].after.id == f.tree.id("system.slice/agent.service"));
    CHECK_FALSE(f.watch->pending());
}

TEST_CASE("a unit that starts between the baseline and follow() is applied without an event") {
    Fixture f;
    f.tree.mkdir("system.slice");
    std::vector<WatchedCgroup> selectors{unit("agent.service")};
    auto baseline = f.watch->resolve(selectors);
    f.tree.mkdir("system.slice/agent.service");  // while the rules were being applied
    f.watch->follow(selectors, baseline);
    CHECK(f.watch->pending());
    f.clock.advance(kCgroupChangeDebounce);
    REQUIRE(f.applies.size() == 1);
    CHECK(f.applies[0][0].after.id == f.tree.id("system.slice/agent.service"));
}

TEST_CASE("every unit and cgroup path of the bindings is followed once, with every identity naming it") {
    auto def = [](const std::string& identity, policy::SelectorKey key, std::vector<std::string> values) {
        policy::BindingDefinition d;
        d.identity.meta.name = identity;
        d.identity.selectors.push_back({{{key, std::move(values), {}}}, {}});
        return d;
    };
    auto got = watched_cgroups({def("b", policy::SelectorKey::systemd_unit, {"agent.service"}),
                                def("a", policy::SelectorKey::systemd_unit, {"agent.service", "other.service"}),
                                def("a", policy::SelectorKey::cgroup_path, {"/app"}),
                                def("c", policy::SelectorKey::process_uid, {"1000"})});
    REQUIRE(got.size() == 3);
    CHECK(got[0].value == "agent.service");
    CHECK(got[0].identities == std::vector<std::string>{"a", "b"});
    CHECK(got[1].value == "other.service");
    CHECK(got[2].key == policy::SelectorKey::cgroup_path);
}

int main(int argc, char** argv) {
    return credgate::test::root_only_main(argc, argv,
                                          "units resolve only through root-owned slices, so these tests need root");
}
