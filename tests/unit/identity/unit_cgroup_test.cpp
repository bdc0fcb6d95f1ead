// SPDX-License-Identifier: Apache-2.0
// systemd:unit resolution against a fake cgroup2 tree in a temp dir: only the system manager's own
// unit is chosen, never a same-named cgroup in a user's delegated subtree. Needs root (chown).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "identity/host_resolver.hpp"
#include "identity_builders.hpp"
#include "support/fake_cgroup_tree.hpp"

using namespace credgate;
using credgate::test::FakeCgroupTree;

namespace {

constexpr const char* kAttacker = "user.slice/user-1001.slice/user@1001.service/agent.service";

// The attacker's cgroup, as a delegated subtree is made: user@1001.service chowned to 1001, and the
// cgroup below it created (and so owned) by 1001.
void make_delegated_imposter(FakeCgroupTree& tree) {
    tree.make_path(kAttacker);
    tree.chown("user.slice/user-1001.slice/user@1001.service", 1001);
    tree.chown(kAttacker, 1001);
}

// What the host resolver finds for `unit` in `tree`.
Result<identity::UnitCgroup> unit_cgroup(const FakeCgroupTree& tree, const std::string& unit) {
    identity::SystemResolver resolver(tree.root());
    return resolver.unit_cgroup(unit);
}

policy::WorkloadIdentity unit_identity(const std::string& unit) {
    return identity::test::identity_of({{identity::test::term(policy::SelectorKey::systemd_unit, {unit})}});
}

}  // namespace

TEST_CASE("a unit under system.slice resolves to its cgroup, whose id is the directory's inode") {
    FakeCgroupTree tree;
    tree.make_path("system.slice/agent.service");
    auto found = unit_cgroup(tree, "agent.service");
    REQUIRE(found);
    CHECK(found->path == "system.slice/agent.service");
    CHECK(found->id == tree.id("system.slice/agent.service"));
    CHECK(found->passed_over.empty());
}

TEST_CASE("a unit name without a suffix is a .service") {
    FakeCgroupTree tree;
    tree.make_path("system.slice/agent.service");
    auto found = unit_cgroup(tree, "agent");
    REQUIRE(found);
    CHECK(found->path == "system.slice/agent.service");
}

TEST_CASE("a unit in a custom slice below another slice resolves") {
    FakeCgroupTree tree;
    tree.make_path("foo.slice/bar.slice/x.service");
    auto found = unit_cgroup(tree, "x.service");
    REQUIRE(found);
    CHECK(found->path == "foo.slice/bar.slice/x.service");
    CHECK(found->id == tree.id("foo.slice/bar.slice/x.service"));
}

TEST_CASE("a same-named cgroup in user@1001.service is not the unit while the unit is not running") {
    FakeCgroupTree tree;
    tree.make_path("system.slice");
    make_delegated_imposter(tree);
    auto found = unit_cgroup(tree, "agent.service");
    REQUIRE_FALSE(found);
    CHECK(found.error().kind == ErrorKind::not_found);
    const std::string& why = found.error().message;
    CHECK(why.find("no unit 'agent.service' of the system manager is running") != std::string::npos);
    CHECK(why.find(std::string("'") + kAttacker + "'") != std::string::npos);
    CHECK(why.find("'user.slice/user-1001.slice/user@1001.service' on its path is not a slice") != std::string::npos);
}

TEST_CASE("the real unit is chosen over an older same-named cgroup in a delegated subtree, which is named") {
    FakeCgroupTree tree;
    make_delegated_imposter(tree);
    tree.make_path("system.slice/agent.service");
    auto found = unit_cgroup(tree, "agent.service");
    REQUIRE(found);
    CHECK(found->path == "system.slice/agent.service");
    CHECK(found->id == tree.id("system.slice/agent.service"));
    REQUIRE(found->passed_over.size() == 1);
    CHECK(found->passed_over[0].find(kAttacker) != std::string::npos);
}

TEST_CASE("a same-named cgroup in a slice owned by another uid is never chosen") {
    FakeCgroupTree tree;
    tree.make_path("user.slice/user-1001.slice/mine.slice/agent.service");
    tree.chown("user.slice/user-1001.slice/mine.slice", 1001);
    auto found = unit_cgroup(tree, "agent.service");
    REQUIRE_FALSE(found);
    CHECK(found.error().message.find("'user.slice/user-1001.slice/mine.slice' is owned by uid 1001, not root") !=
          std::string::npos);
}

TEST_CASE("a unit directory owned by another uid is never chosen") {
    FakeCgroupTree tree;
    tree.make_path("system.slice/agent.service");
    tree.chown("system.slice/agent.service", 1001);
    auto found = unit_cgroup(tree, "agent.service");
    REQUIRE_FALSE(found);
    CHECK(found.error().message.find("'system.slice/agent.service' is owned by uid 1001") != std::string::npos);
}

TEST_CASE("a unit below a slice that anyone may write is never chosen") {
    FakeCgroupTree tree;
    tree.make_path("open.slice/agent.service");
    tree.chmod("open.slice", 0777);
    auto found = unit_cgroup(tree, "agent.service");
    REQUIRE_FALSE(found);
    CHECK(found.error().message.find("'open.slice' is writable by group or others (mode 0777)") != std::string::npos);
}

TEST_CASE("a unit that runs nowhere is an error naming the unit and the cgroup root") {
    FakeCgroupTree tree;
    tree.make_path("system.slice/other.service");
    auto found = unit_cgroup(tree, "agent.service");
    REQUIRE_FALSE(found);
    CHECK(found.error().message ==
          "no unit 'agent.service' of the system manager is running under '" + tree.root() + "'");
}

TEST_CASE("an identity whose unit is not running binds to nothing, not to the imposter, and warns naming it") {
    FakeCgroupTree tree;
    tree.make_path("system.slice");
    make_delegated_imposter(tree);
    identity::SystemResolver resolver(tree.root());
    auto compiled = identity::compile_identity(unit_identity("agent.service"), resolver);
    REQUIRE(compiled);
    REQUIRE(compiled->alternatives.size() == 1);
    CHECK(compiled->alternatives[0].fact_mask == identity::fact_bit(identity::Fact::cgroup));
    CHECK(compiled->alternatives[0].cgroups.empty());
    REQUIRE(compiled->warnings.size() == 1);
    CHECK(compiled->warnings[0].find(kAttacker) != std::string::npos);
    CHECK(compiled->warnings[0].find("not a slice") != std::string::npos);
}

TEST_CASE("an identity whose unit runs binds to the unit's cgroup and warns about the imposter it passed over") {
    FakeCgroupTree tree;
    make_delegated_imposter(tree);
    tree.make_path("system.slice/agent.service");
    identity::SystemResolver resolver(tree.root());
    auto compiled = identity::compile_identity(unit_identity("agent.service"), resolver);
    REQUIRE(compiled);
    CHECK(compiled->alternatives[0].cgroups == std::vector<uint64_t>{tree.id("system.slice/agent.service")});
    REQUIRE(compiled->warnings.size() == 1);
    CHECK(compiled->warnings[0].find("resolves to 'system.slice/agent.service'; passed over") != std::string::npos);
    CHECK(compiled->warnings[0].find(kAttacker) != std::string::npos);
}
