// SPDX-License-Identifier: Apache-2.0
// The file sink's private mount: tmpfs with noswap on kernels that have it, ramfs otherwise (and
// when asked), nosuid,nodev,noexec, root mode 0711, the byte bound, and adoption on restart.
// Needs root with CAP_SYS_ADMIN; exits 77 (skip) otherwise, or 1 under CREDGATE_REQUIRE_ALL_TESTS=1.
#include "delivery/file_sink.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace credgate::delivery;

namespace {

constexpr const char* kUuid = "2e08019a-a435-55e3-9ba7-f01c09b9fc2b";

int skip(const std::string& why) {
    const char* require = std::getenv("CREDGATE_REQUIRE_ALL_TESTS");
    std::fprintf(stderr, "SKIP: %s\n", why.c_str());
    return require && std::string(require) == "1" ? 1 : 77;
}

int failures = 0;

void check(bool ok, const std::string& what) {
    if (ok) return;
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
}

// tmpfs learned noswap in Linux 6.4.
bool kernel_has_tmpfs_noswap() {
    utsname u{};
    if (::uname(&u) != 0) return false;
    int major = 0, minor = 0;
    if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 6 || (major == 6 && minor >= 4);
}

// The super block options /proc/self/mountinfo lists for the mount at `path`.
std::string super_options(const std::string& path) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string id, parent, dev, root, mount_point;
        f >> id >> parent >> dev >> root >> mount_point;
        const auto dash = line.find(" - ");
        if (mount_point != path || dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string type, source;
        tail >> type >> source >> found;
    }
    return found;
}

void check_mount_flags_and_mode(const std::string& root) {
    struct statvfs vfs {};
    struct stat st {};
    check(::statvfs(root.c_str(), &vfs) == 0, "statvfs");
    check((vfs.f_flag & ST_NOSUID) && (vfs.f_flag & ST_NODEV) && (vfs.f_flag & ST_NOEXEC),
          "mount lacks nosuid, nodev or noexec");
    check(::stat(root.c_str(), &st) == 0 && (st.st_mode & 07777) == 0711, "root mode is not 0711");
}

// Makes a fresh mount point, runs `body` on it, then unmounts everything stacked there.
template <typename Body>
void with_mount_point(const char* name, Body body) {
    char tmpl[] = "/tmp/credgate-mount-XXXXXX";
    if (!::mkdtemp(tmpl)) {
        check(false, "mkdtemp");
        return;
    }
    const std::string root = std::string(tmpl) + "/credentials";
    std::fprintf(stderr, "-- %s\n", name);
    body(root);
    while (::umount2(root.c_str(), MNT_DETACH) == 0) {
    }
    std::filesystem::remove_all(tmpl);
}

// Without asking for a file system, this kernel's choice: tmpfs with noswap from Linux 6.4, ramfs
// before (Debian 12's 6.1 refuses noswap, and tmpfs without it may swap credentials out).
bool automatic_choice_never_swaps() {
    bool permission_refused = false;
    with_mount_point("automatic: tmpfs with noswap where the kernel has it, else ramfs", [&](const std::string& root) {
        FileSinkOptions o;
        o.root = root;
        o.mount = true;
        o.mount_size_bytes = 1024 * 1024;
        auto sink = FileSink::create(o);
        if (!sink) {
            permission_refused = sink.error().kind == credgate::ErrorKind::permission;
            if (!permission_refused) check(false, sink.error().message);
            return;
        }
        struct statfs fs {};
        check(::statfs(root.c_str(), &fs) == 0, "statfs");
        if (kernel_has_tmpfs_noswap()) {
            check(fs.f_type == TMPFS_MAGIC, "root is not a tmpfs on a kernel with tmpfs noswap");
            check((*sink)->mount().filesystem == Filesystem::tmpfs_noswap, "mount() does not say tmpfs (noswap)");
            check(("," + super_options(root) + ",").find(",noswap,") != std::string::npos,
                  "the tmpfs was mounted without noswap: " + super_options(root));
            struct statvfs vfs {};
            check(::statvfs(root.c_str(), &vfs) == 0 && vfs.f_blocks * vfs.f_frsize <= 1024 * 1024,
                  "tmpfs size limit not applied");
        } else {
            check(fs.f_type == RAMFS_MAGIC, "root is not a ramfs on a kernel without tmpfs noswap");
            check((*sink)->mount().filesystem == Filesystem::ramfs, "mount() does not say ramfs");
        }
        check(!may_swap((*sink)->mount().filesystem), "the automatic choice may swap");
        check(!(*sink)->mount().adopted, "a fresh mount says it was adopted");
        check_mount_flags_and_mode(root);
        check((*sink)->mounted(), "mounted() is false");
        check(bool((*sink)->publish(Target{kUuid, "b", "vault.json"}, "{}", Ownership{})), "publish");
        // A second sink adopts the existing mount instead of stacking another one.
        auto again = FileSink::create(o);
        check(bool(again), "re-create on an existing mount");
        if (again) {
            check((*again)->mount().adopted, "the second sink did not adopt the mount");
            check((*again)->mount().filesystem == (*sink)->mount().filesystem, "adoption changed the file system");
        }
        check(std::filesystem::exists(root + "/" + kUuid + "/crb-b/vault.json"), "adopting the mount lost its files");
    });
    return !permission_refused;
}

void ramfs_is_never_swapped_and_bounded_by_credgated() {
    with_mount_point("ramfs: never swapped, bounded by credgated, adopted on restart", [](const std::string& root) {
        FileSinkOptions o;
        o.root = root;
        o.mount = true;
        o.filesystem = MountChoice::ramfs;
        o.max_total_bytes = 64;
        auto sink = FileSink::create(o);
        if (!sink) {
            check(false, sink.error().message);
            return;
        }
        struct statfs fs {};
        check(::statfs(root.c_str(), &fs) == 0 && fs.f_type == RAMFS_MAGIC, "root is not a ramfs");
        check((*sink)->mount().filesystem == Filesystem::ramfs, "mount() does not say ramfs");
        check(!may_swap(Filesystem::ramfs), "ramfs is said to swap");
        // ramfs's own mode is not relied on: credgated sets 0711 itself.
        check_mount_flags_and_mode(root);
        auto owned = (*sink)->publish(Target{kUuid, "b", "vault.json"}, std::string(40, 'k'), Ownership{65534});
        check(bool(owned), "publish an owned file on ramfs");
        struct stat st {};
        check(::stat((root + "/" + kUuid + "/crb-b/vault.json").c_str(), &st) == 0 && st.st_uid == 65534 &&
                  (st.st_mode & 07777) == 0400,
              "the owned file is not uid 65534, mode 0400");
        // ramfs would take any size; credgated's bound refuses what goes beyond it.
        auto refused = (*sink)->publish(Target{kUuid, "c", "vault.json"}, std::string(40, 'x'), Ownership{});
        check(!refused, "a publish above the byte bound was accepted on ramfs");
        if (!refused)
            check(refused.error().message.find("limit of 64 bytes") != std::string::npos,
                  "the refusal does not name the limit: " + refused.error().message);
        auto again = FileSink::create(o);
        check(again && (*again)->mount().adopted && (*again)->mount().filesystem == Filesystem::ramfs,
              "a restart does not adopt the ramfs");
        check(std::filesystem::exists(root + "/" + kUuid + "/crb-b/vault.json"), "adopting the ramfs lost its files");
    });
}

}  // namespace

int main() {
    if (::geteuid() != 0) return skip("mounting tmpfs or ramfs needs root");
    if (!automatic_choice_never_swaps()) return skip("mount refused (no CAP_SYS_ADMIN in this container?)");
    ramfs_is_never_swapped_and_bounded_by_credgated();
    if (failures == 0) std::fprintf(stderr, "private mount: ok\n");
    return failures == 0 ? 0 : 1;
}
