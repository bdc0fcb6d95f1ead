// SPDX-License-Identifier: Apache-2.0
// Mounting, or adopting, the file backend's private tmpfs or ramfs, and saying which and why.
#include "delivery/private_mount.hpp"

#include <fmt/format.h>

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace credgate::delivery {
namespace {

constexpr unsigned long kMountFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

Error mount_error(std::string_view fs, const std::string& root, int e) {
    return Error{e == EPERM || e == EACCES ? ErrorKind::permission : ErrorKind::internal,
                 fmt::format("cannot mount {} at '{}': {}", fs, root, std::strerror(e))};
}

bool is_mountpoint(const std::string& path) {
    struct stat self {}, parent {};
    if (::stat(path.c_str(), &self) != 0 || ::stat((path + "/..").c_str(), &parent) != 0) return false;
    return self.st_dev != parent.st_dev;
}

// The super block options of the mount at `path` ("rw,size=16384k,mode=711,noswap"), from
// /proc/self/mountinfo: "id parent major:minor root mountpoint opts [optional...] - fstype source superopts".
std::string super_options(const std::string& path) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, mount_point;
        fields >> id >> parent >> dev >> root >> mount_point;
        if (mount_point != path) continue;
        const auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string type, source, options;
        tail >> type >> source >> options;
        found = options;  // the last one listed is the one on top
    }
    return found;
}

bool has_option(const std::string& options, std::string_view name) {
    std::istringstream in(options);
    std::string item;
    while (std::getline(in, item, ','))
        if (item == name) return true;
    return false;
}

Result<MountOutcome> mount_ramfs(const std::string& root, std::string reason) {
    if (::mount("credgate", root.c_str(), "ramfs", kMountFlags, nullptr) != 0)
        return fail(mount_error("ramfs", root, errno));
    return MountOutcome{Filesystem::ramfs, false, std::move(reason)};
}

}  // namespace

const char* to_string(Filesystem fs) noexcept {
    switch (fs) {
    case Filesystem::directory: return "directory";
    case Filesystem::tmpfs_noswap: return "tmpfs (noswap)";
    case Filesystem::tmpfs: return "tmpfs";
    case Filesystem::ramfs: return "ramfs";
    }
    return "unknown";
}

bool may_swap(Filesystem fs) noexcept {
    return fs == Filesystem::directory || fs == Filesystem::tmpfs;
}

Result<MountOutcome> mount_private(const std::string& root, MountChoice choice, size_t tmpfs_size_bytes) {
    struct statfs fs {};
    if (is_mountpoint(root) && ::statfs(root.c_str(), &fs) == 0) {
        // Left by a previous run: adopt it; the refresh engines re-publish its files.
        if (fs.f_type == RAMFS_MAGIC)
            return MountOutcome{Filesystem::ramfs, true, "adopted the ramfs of a previous run (never swapped)"};
        if (fs.f_type == TMPFS_MAGIC) {
            if (has_option(super_options(root), "noswap"))
                return MountOutcome{Filesystem::tmpfs_noswap, true,
                                    "adopted the tmpfs of a previous run, mounted with noswap"};
            return MountOutcome{Filesystem::tmpfs, true,
                                "adopted a tmpfs mounted without noswap: credentials may be swapped; unmount it "
                                "while credgated is stopped to get ramfs or tmpfs with noswap"};
        }
    }
    if (choice == MountChoice::ramfs) return mount_ramfs(root, "ramfs was asked for; it is never swapped");
    // The mode is set again with chmod after mounting (ramfs has no mode= of its own to rely on).
    const std::string options = fmt::format("mode=711,size={},noswap", tmpfs_size_bytes);
    if (::mount("credgate", root.c_str(), "tmpfs", kMountFlags, options.c_str()) == 0)
        return MountOutcome{Filesystem::tmpfs_noswap, false, "this kernel's tmpfs has noswap (Linux 6.4+)"};
    if (errno != EINVAL) return fail(mount_error("tmpfs", root, errno));
    // Linux before 6.4 (Debian 12 has 6.1) refuses noswap. tmpfs without it may be swapped, so
    // ramfs instead: its pages are never swapped out.
    return mount_ramfs(root, "this kernel's tmpfs has no noswap (Linux < 6.4), and ramfs is never swapped");
}

}  // namespace credgate::delivery
