// SPDX-License-Identifier: Apache-2.0
// Whether a non-root uid could replace a bound program, on real files in a temp dir given to other
// uids and modes: owners, group and other write bits, the sticky bit, symlinks.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "identity/replaceable.hpp"

using namespace credgate;
namespace fs = std::filesystem;

namespace {

// A root-owned temp dir (mode 0755) under the system's temp dir (root-owned, sticky), holding
// root-owned programs: nothing in it is replaceable until a test makes it so.
class ProgramTree {
public:
    ProgramTree() {
        std::string tmpl = (fs::temp_directory_path() / "credgate-programs-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        root_ = tmpl;
        REQUIRE(::chmod(root_.c_str(), 0755) == 0);
    }
    ~ProgramTree() {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    std::string path(const std::string& rel) const { return root_ + "/" + rel; }
    std::string dir(const std::string& rel, mode_t mode = 0755) {
        REQUIRE(::mkdir(path(rel).c_str(), mode) == 0);
        REQUIRE(::chmod(path(rel).c_str(), mode) == 0);
        return path(rel);
    }
    std::string program(const std::string& rel, mode_t mode = 0755) {
        std::ofstream(path(rel)) << "#!/bin/sh\n";
        REQUIRE(::chmod(path(rel).c_str(), mode) == 0);
        return path(rel);
    }
    void chown(const std::string& rel, uid_t uid) { REQUIRE(::lchown(path(rel).c_str(), uid, uid) == 0); }
    void chmod(const std::string& rel, mode_t mode) { REQUIRE(::chmod(path(rel).c_str(), mode) == 0); }
    void symlink(const std::string& target, const std::string& rel) {
        REQUIRE(::symlink(target.c_str(), path(rel).c_str()) == 0);
    }

private:
    std::string root_;
};

}  // namespace

TEST_CASE("a root-owned program in directories only root may write cannot be replaced by another uid") {
    ProgramTree t;
    t.dir("bin");
    auto program = t.program("bin/agent");
    auto risks = identity::replaceable_by_non_root(program);
    REQUIRE(risks);
    CHECK(risks->empty());
}

TEST_CASE("a program in a directory owned by another uid can be replaced through that directory") {
    ProgramTree t;
    auto bin = t.dir("bin");
    auto program = t.program("bin/agent");
    t.chown("bin", 1000);
    auto risks = identity::replaceable_by_non_root(program);
    REQUIRE(risks);
    REQUIRE(risks->size() == 1);
    CHECK((*risks)[0].path == bin);
    CHECK((*risks)[0].reason == "owned by uid 1000");
    CHECK_FALSE((*risks)[0].program);
}

TEST_CASE("a directory above the program that its group or others may write is named with its mode") {
    ProgramTree t;
    auto opt = t.dir("opt", 0775);
    auto bin = t.dir("opt/bin", 0757);
    auto program = t.program("opt/bin/agent");
    auto risks = identity::replaceable_by_non_root(program);
    REQUIRE(risks);
    REQUIRE(risks->size() == 2);
    CHECK((*risks)[0].path == opt);
    CHECK((*risks)[0].reason == "writable by group 0 (mode 0775)");
    CHECK((*risks)[1].path == bin);
    CHECK((*risks)[1].reason == "writable by others (mode 0757)");
}

TEST_CASE("the sticky bit protects a root-owned program in a root-owned directory anyone may write") {
    ProgramTree t;
    t.dir("shared", 01777);
    auto program = t.program("shared/agent");
    auto risks = identity::replaceable_by_non_root(program);
    REQUIRE(risks);
    CHECK(risks->empty());
}

TEST_CASE("the sticky bit does not protect a program owned by another uid, which can also change it") {
    ProgramTree t;
    auto shared = t.dir("shared", 01777);
    auto program = t.program("shared/agent");
    t.chown("shared/agent", 1000);
    auto risks = identity::replaceable_by_non_root(program);
    REQUIRE(risks);
    REQUIRE(risks->size() == 2);
    CHECK((*risks)[0].path == shared);
    CHECK((*risks)[0].reason ==
          "writable by group 0 and by others (mode 1777, and 'agent' is owned by uid 1000, so the sticky bit does not "
          "stop its renaming)");
    CHECK((*risks)[1].path == program);
    CHECK((*risks)[1].program);
    CHECK((*risks)[1].reason == "owned by uid 1000");
}

TEST_CASE("a program file that its group may write is named, with every reason at once") {
    ProgramTree t;
    t.dir("bin");
    auto program = t.program("bin/agent", 0777);
    t.chown("bin/agent", 1000);
    auto risks = identity::replaceable_by_non_root(program);
    REQUIRE(risks);
    REQUIRE(risks->size() == 1);
    CHECK((*risks)[0].reason == "owned by uid 1000 and writable by group 1000 and by others (mode 0777)");
}

TEST_CASE("symlinks are followed: the link's directory and its target's directories are both checked") {
    ProgramTree t;
    auto links = t.dir("links", 0777);
    auto real = t.dir("real");
    auto program = t.program("real/agent");
    t.symlink("../real/agent", "links/agent");
    auto through_link = identity::replaceable_by_non_root(t.path("links/agent"));
    REQUIRE(through_link);
    REQUIRE(through_link->size() == 1);
    CHECK((*through_link)[0].path == links);

    t.chmod("links", 0755);
    t.chown("real", 1000);
    auto through_target = identity::replaceable_by_non_root(t.path("links/agent"));
    REQUIRE(through_target);
    REQUIRE(through_target->size() == 1);
    CHECK((*through_target)[0].path == real);
}

TEST_CASE("a program that does not exist is not_found, naming the missing step") {
    ProgramTree t;
    auto missing = identity::replaceable_by_non_root(t.path("nowhere/agent"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::not_found);
    CHECK(missing.error().message.find(t.path("nowhere")) != std::string::npos);
    CHECK_FALSE(identity::replaceable_by_non_root("relative/agent"));
}

TEST_CASE("the warning names the program, the path that allows the swap, why, and the fix") {
    identity::ReplaceRisk risk{"/opt/agent/bin", "owned by uid 1000", false};
    const std::string text = identity::describe_replace_risk("/opt/agent/bin/agent", risk);
    CHECK(text.starts_with("process:path '/opt/agent/bin/agent' can be replaced by a uid other than root: "
                           "'/opt/agent/bin' on its path is owned by uid 1000;"));
    CHECK(text.ends_with("Make '/opt/agent/bin' owned by root and not writable by group or others "
                         "(chown root:root '/opt/agent/bin'; chmod go-w '/opt/agent/bin')"));
    risk = {"/opt/agent/bin/agent", "writable by others (mode 0757)", true};
    CHECK(identity::describe_replace_risk("/opt/agent/bin/agent", risk).find("the program itself is writable by others") !=
          std::string::npos);
}
