// SPDX-License-Identifier: Apache-2.0
// Selector compilation to kernel rules, against a resolver that answers from tables.
#include <doctest/doctest.h>
#include <sys/sysmacros.h>

#include <map>

#include "identity/caching_resolver.hpp"
#include "identity/compile.hpp"
#include "policy/values.hpp"
#include "identity_builders.hpp"
#include "table_resolver.hpp"

using namespace credgate;
using identity::Fact;
using identity::FileKey;
using identity::test::identity_of;
using identity::test::term;
using policy::SelectorKey;
using TableResolver = identity::test::TableResolver;

TEST_CASE("userspace st_dev becomes the kernel's MAJOR << 20 | MINOR") {
    CHECK(identity::kernel_dev(makedev(8, 1)) == ((8ull << 20) | 1));
    CHECK(identity::kernel_dev(makedev(259, 70000)) == ((259ull << 20) | 70000));
}

TEST_CASE("process:path compiles to the file's device and inode, which becomes a trusted executable") {
    TableResolver r;
    r.files["/usr/bin/agent"] = {10, 20};
    auto c = identity::compile_identity(identity_of({{term(SelectorKey::process_path, {"/usr/bin/agent"})}}), r);
    REQUIRE(c);
    REQUIRE(c->alternatives.size() == 1);
    CHECK(c->alternatives[0].fact_mask == identity::fact_bit(Fact::exe));
    CHECK(c->alternatives[0].exes == std::vector<FileKey>{{10, 20}});
    CHECK(c->trusted_execs == std::vector<FileKey>{{10, 20}});
}

TEST_CASE("a path that does not exist leaves an empty set: that alternative matches nobody") {
    TableResolver r;
    auto c = identity::compile_identity(identity_of({{term(SelectorKey::process_path, {"/missing"})}}), r);
    REQUIRE(c);
    CHECK(c->alternatives[0].fact_mask == identity::fact_bit(Fact::exe));
    CHECK(c->alternatives[0].exes.empty());
    REQUIRE(c->warnings.size() == 1);
    CHECK(c->warnings[0].find("/missing") != std::string::npos);
}

TEST_CASE("process:name alone is refused unless the identity allows weak selectors") {
    TableResolver r;
    auto weak = identity_of({{term(SelectorKey::process_name, {"agent"})}});
    auto refused = identity::compile_identity(weak, r);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("process:name") != std::string::npos);
    weak.allow_weak_selectors = true;
    auto allowed = identity::compile_identity(weak, r);
    REQUIRE(allowed);
    CHECK(allowed->alternatives[0].fact_mask == identity::fact_bit(Fact::comm));
    CHECK_FALSE(allowed->warnings.empty());
}

TEST_CASE("process:name AND-ed with a uid needs both, and long names keep the kernel's 15 bytes") {
    TableResolver r;
    auto c = identity::compile_identity(
        identity_of({{term(SelectorKey::process_name, {"a-very-long-agent-name"}), term(SelectorKey::process_uid, {"1000"})}}),
        r);
    REQUIRE(c);
    CHECK(c->alternatives[0].fact_mask == (identity::fact_bit(Fact::comm) | identity::fact_bit(Fact::uid)));
    CHECK(std::string(c->alternatives[0].comms.at(0).data()) == "a-very-long-age");
    CHECK_FALSE(c->warnings.empty());
}

TEST_CASE("process:uid and process:user in one alternative must both hold: their sets intersect") {
    TableResolver r;
    r.users["agent"] = 1000;
    auto c = identity::compile_identity(
        identity_of({{term(SelectorKey::process_uid, {"1000", "1001"}), term(SelectorKey::process_user, {"agent"})}}), r);
    REQUIRE(c);
    CHECK(c->alternatives[0].uids == std::vector<uint32_t>{1000});
}

TEST_CASE("a malformed uid is an error that names it") {
    TableResolver r;
    auto c = identity::compile_identity(identity_of({{term(SelectorKey::process_uid, {"10x"})}}), r);
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find("10x") != std::string::npos);
}

TEST_CASE("process:sha256 selects the candidate executables whose content has that hash") {
    TableResolver r;
    r.files["/opt/a"] = {1, 2};
    r.files["/opt/b"] = {1, 3};
    r.hashes["/opt/a"] = std::string(64, 'a');
    r.hashes["/opt/b"] = std::string(64, 'b');
    auto c = identity::compile_identity(
        identity_of({{term(SelectorKey::process_sha256, {"sha256:" + std::string(64, 'B')})}}), r, {"/opt/a", "/opt/b"});
    REQUIRE(c);
    CHECK(c->alternatives[0].exes == std::vector<FileKey>{{1, 3}});
    CHECK(c->trusted_execs == std::vector<FileKey>{{1, 3}});
}

TEST_CASE("systemd:unit and cgroup:path compile to cgroup ids, one alternative each") {
    TableResolver r;
    r.units["agent.service"] = 77;
    r.cgroups["/agents"] = 88;
    auto c = identity::compile_identity(identity_of({{term(SelectorKey::systemd_unit, {"agent.service"})},
                                                     {term(SelectorKey::cgroup_path, {"/agents"})}}),
                                        r);
    REQUIRE(c);
    CHECK(c->alternatives[0].cgroups == std::vector<uint64_t>{77});
    CHECK(c->alternatives[1].cgroups == std::vector<uint64_t>{88});
    auto both = identity::compile_identity(
        identity_of({{term(SelectorKey::systemd_unit, {"agent.service"}), term(SelectorKey::cgroup_path, {"/agents"})}}), r);
    CHECK_FALSE(both);
}

TEST_CASE("more alternatives than the kernel holds, or an empty one, are refused") {
    TableResolver r;
    std::vector<std::vector<policy::SelectorTerm>> many(policy::kMaxSelectorAlternatives + 1,
                                                        {term(SelectorKey::process_uid, {"1"})});
    CHECK_FALSE(identity::compile_identity(identity_of(many), r));
    CHECK_FALSE(identity::compile_identity(identity_of({{}}), r));
}

TEST_CASE("program_paths lists every identity's process:path programs once, sorted, for process:sha256") {
    auto a = identity_of({{term(SelectorKey::process_path, {"/usr/bin/b", "/usr/bin/a"}), term(SelectorKey::process_uid, {"1"})}});
    auto b = identity_of({{term(SelectorKey::process_uid, {"2"})}, {term(SelectorKey::process_path, {"/usr/bin/a"})}});
    CHECK(identity::program_paths({a, b}) == std::vector<std::string>{"/usr/bin/a", "/usr/bin/b"});
}

TEST_CASE("a caching resolver asks its host once per value, failures included") {
    struct Counting final : public identity::Resolver {
        TableResolver table;
        int asked = 0;
        Result<FileKey> file(const std::string& p) override { ++asked; return table.file(p); }
        Result<std::string> sha256_hex(const std::string& p) override { ++asked; return table.sha256_hex(p); }
        Result<uint32_t> user(const std::string& n) override { ++asked; return table.user(n); }
        Result<uint32_t> group(const std::string& n) override { ++asked; return table.group(n); }
        Result<uint64_t> cgroup(const std::string& p) override { ++asked; return table.cgroup(p); }
        Result<identity::UnitCgroup> unit_cgroup(const std::string& u) override { ++asked; return table.unit_cgroup(u); }
    } host;
    host.table.files["/bin/agent"] = FileKey{1, 2};
    identity::CachingResolver cache(host);
    CHECK(cache.file("/bin/agent").value() == FileKey{1, 2});
    CHECK(cache.file("/bin/agent").value() == FileKey{1, 2});
    CHECK_FALSE(cache.user("nobody-here"));
    CHECK_FALSE(cache.user("nobody-here"));
    CHECK(host.asked == 2);
}
