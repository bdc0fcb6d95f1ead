// SPDX-License-Identifier: Apache-2.0
// Process facts: this test's own process through the real /proc, and a fake /proc and cgroup tree
// in a temp dir for the file-system ids, the tracer, the cgroup ancestry and the unit.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <string>

#include "identity/process_facts.hpp"

using namespace credgate;
namespace fs = std::filesystem;

namespace {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "credgate-proc-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }
    void write(const std::string& rel, const std::string& text) const {
        fs::create_directories(fs::path(path_ + "/" + rel).parent_path());
        std::ofstream(path_ + "/" + rel) << text;
    }

private:
    std::string path_;
};

uint64_t ino(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

}  // namespace

TEST_CASE("this process's facts: its executable, ids and name as /proc tells them") {
    auto f = identity::read_process_facts(::getpid());
    REQUIRE(f);
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    REQUIRE(n > 0);
    CHECK(f->exe_path == std::string(buf, static_cast<size_t>(n)));
    REQUIRE(f->exe);
    struct stat st {};
    REQUIRE(::stat("/proc/self/exe", &st) == 0);
    CHECK(f->exe->ino == st.st_ino);
    CHECK(f->exe->dev == identity::kernel_dev(st.st_dev));
    CHECK(f->exe_source == identity::ExeSource::proc);
    CHECK(f->uid == ::geteuid());  // no setfsuid here: the file-system uid is the effective one
    CHECK(f->gid == ::getegid());
    CHECK(f->comm == std::string("test_identity").substr(0, 15));
    CHECK_FALSE(f->traced);
}

TEST_CASE("a pid that is not running is not_found") {
    auto f = identity::read_process_facts(INT_MAX - 1);
    REQUIRE_FALSE(f);
    CHECK(f.error().kind == ErrorKind::not_found);
    CHECK(f.error().message.find("no process with pid") != std::string::npos);
}

TEST_CASE("file-system ids, the tracer, the cgroup's ancestry and the innermost unit come from /proc") {
    TempDir proc, cgroup;
    proc.write("77/status",
               "Name:\tagent\nUid:\t1000\t1000\t1000\t1001\nGid:\t2000\t2000\t2000\t2002\nTracerPid:\t13\n");
    proc.write("77/comm", "agent\n");
    proc.write("77/cgroup", "0::/system.slice/agent.service/worker\n");
    fs::create_directories(cgroup.path() + "/system.slice/agent.service/worker");
    auto f = identity::read_process_facts(77, {proc.path(), cgroup.path()});
    REQUIRE(f);
    CHECK(f->uid == 1001);
    CHECK(f->real_uid == 1000);
    CHECK(f->gid == 2002);
    CHECK(f->traced);
    CHECK(f->comm == "agent");
    CHECK(f->exe_path.empty());  // no exe link: a kernel thread, or unreadable
    CHECK_FALSE(f->exe);
    CHECK(f->cgroup == "/system.slice/agent.service/worker");
    CHECK(f->unit == "agent.service");
    REQUIRE(f->cgroup_ids.size() == 4);
    CHECK(f->cgroup_ids[0] == ino(cgroup.path()));
    CHECK(f->cgroup_ids[1] == ino(cgroup.path() + "/system.slice"));
    CHECK(f->cgroup_ids[3] == ino(cgroup.path() + "/system.slice/agent.service/worker"));
}

TEST_CASE("running_processes lists thread groups in pid order, this one among them") {
    TempDir proc;
    for (const char* entry : {"12/status", "3/status", "self/status", "sys/x"}) proc.write(entry, "");
    CHECK(identity::running_processes({proc.path(), "/nonexistent"}) == std::vector<pid_t>{3, 12});
    const auto real = identity::running_processes();
    CHECK(std::find(real.begin(), real.end(), ::getpid()) != real.end());
}

TEST_CASE("device numbers read as MAJOR:MINOR") {
    CHECK(identity::device_text((254ull << 20) | 1) == "254:1");
    CHECK(identity::device_text((8ull << 20) | 1048575) == "8:1048575");
}
