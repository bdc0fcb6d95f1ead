// SPDX-License-Identifier: Apache-2.0
// What tells the pinned programs from this build's: tags and constants per program, and the digest
// that names a set in the log.
#include <doctest/doctest.h>

#include "enforce/program_set.hpp"

using credgate::enforce::detail::compare_programs;
using credgate::enforce::detail::ProgramFacts;
using credgate::enforce::detail::ProgramSet;

namespace {

ProgramFacts facts(std::string tag, std::string constants = "/sys/fs/bpf/credgate") {
    ProgramFacts f;
    f.tag = std::move(tag);
    f.constants = std::move(constants);
    return f;
}

ProgramSet a_build() {
    ProgramSet set;
    set.programs["credgate_file_open"] = facts("0123456789abcdef");
    set.programs["credgate_sb_umount"] = facts("1111111111111111");
    return set;
}

}  // namespace

TEST_CASE("the same tags and constants are the same build, whatever the ids, and have one digest") {
    ProgramSet pinned = a_build(), loaded = a_build();
    pinned.programs["credgate_file_open"].prog_id = 7;
    pinned.programs["credgate_file_open"].link_id = 9;
    loaded.programs["credgate_file_open"].prog_id = 70;
    CHECK(compare_programs(pinned, loaded).empty());
    CHECK(pinned.digest() == loaded.digest());
    CHECK(pinned.digest().size() == 16);
}

TEST_CASE("another tag is a changed program, named with both tags, and another digest") {
    ProgramSet loaded = a_build();
    loaded.programs["credgate_sb_umount"].tag = "2222222222222222";
    auto changes = compare_programs(a_build(), loaded);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].name == "credgate_sb_umount");
    CHECK(changes[0].old_tag == "1111111111111111");
    CHECK(changes[0].new_tag == "2222222222222222");
    CHECK_FALSE(changes[0].constants_only);
    CHECK(a_build().digest() != loaded.digest());
}

TEST_CASE("the same instructions reading other constants are a changed program too") {
    ProgramSet loaded = a_build();
    loaded.programs["credgate_file_open"].constants = "/sys/fs/bpf/other";
    auto changes = compare_programs(a_build(), loaded);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].constants_only);
    CHECK(changes[0].old_tag == changes[0].new_tag);
    CHECK(a_build().digest() != loaded.digest());
}

TEST_CASE("a program only one side has is a change with an empty tag on the other side") {
    ProgramSet loaded = a_build();
    loaded.programs.erase("credgate_sb_umount");
    loaded.programs["credgate_task_kill"] = facts("3333333333333333");
    auto changes = compare_programs(a_build(), loaded);
    REQUIRE(changes.size() == 2);
    CHECK(changes[0].name == "credgate_sb_umount");
    CHECK(changes[0].new_tag.empty());
    CHECK(changes[1].name == "credgate_task_kill");
    CHECK(changes[1].old_tag.empty());
}

TEST_CASE("the digest keeps names, tags and constants apart") {
    ProgramSet one, other;
    one.programs["ab"] = facts("c", "");
    other.programs["a"] = facts("bc", "");
    CHECK(one.digest() != other.digest());
}
