// SPDX-License-Identifier: Apache-2.0
// A fake cgroup2 root in a temp dir for tests of unit resolution and cgroup watching: directories are
// root-owned and mode 0755 like cgroupfs, and a cgroup's id is its directory's inode.
#pragma once

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace credgate::test {

class FakeCgroupTree {
public:
    FakeCgroupTree() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "credgate-cgroup-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        root_ = tmpl;
        ::chmod(root_.c_str(), 0755);
    }
    ~FakeCgroupTree() {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    FakeCgroupTree(const FakeCgroupTree&) = delete;
    FakeCgroupTree& operator=(const FakeCgroupTree&) = delete;

    const std::string& root() const { return root_; }
    // One new directory, as a cgroup is created (its parent must exist).
    void mkdir(const std::string& rel) { REQUIRE(::mkdir(at(rel).c_str(), 0755) == 0); }
    // Every missing directory of `rel`, mode 0755.
    void make_path(const std::string& rel) {
        std::filesystem::create_directories(at(rel));
        for (std::filesystem::path p = rel; !p.empty(); p = p.parent_path()) ::chmod(at(p.string()).c_str(), 0755);
    }
    void rmdir(const std::string& rel) { REQUIRE(::rmdir(at(rel).c_str()) == 0); }
    void rename(const std::string& from, const std::string& to) {
        REQUIRE(::rename(at(from).c_str(), at(to).c_str()) == 0);
    }
    void chown(const std::string& rel, uid_t uid) { REQUIRE(::chown(at(rel).c_str(), uid, uid) == 0); }
    void chmod(const std::string& rel, mode_t mode) { REQUIRE(::chmod(at(rel).c_str(), mode) == 0); }
    uint64_t id(const std::string& rel) const {
        struct stat st{};
        REQUIRE(::stat(at(rel).c_str(), &st) == 0);
        return st.st_ino;
    }

private:
    std::string at(const std::string& rel) const { return root_ + "/" + rel; }
    std::string root_;
};

}  // namespace credgate::test
