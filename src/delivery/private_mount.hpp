// SPDX-License-Identifier: Apache-2.0
// The private file system under the file backend (DESIGN §4): tmpfs with noswap where the kernel
// has it (Linux 6.4+), ramfs where it does not, so a credential never reaches swap.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <string>

namespace credgate::delivery {

enum class Filesystem {
    directory,     // not a private mount: a plain directory (development, unprivileged)
    tmpfs_noswap,  // tmpfs mounted with noswap
    tmpfs,         // tmpfs that may swap (adopted from a run on an older kernel, or mounted by hand)
    ramfs,         // never swapped, no size limit of its own
};

const char* to_string(Filesystem fs) noexcept;
// Whether pages of this file system can be written to swap.
bool may_swap(Filesystem fs) noexcept;

enum class MountChoice {
    automatic,  // tmpfs with noswap, else ramfs
    ramfs,      // ramfs whatever the kernel offers (what a kernel without tmpfs noswap gets)
};

struct MountOutcome {
    Filesystem filesystem = Filesystem::directory;
    bool adopted = false;  // it was already mounted (a previous run)
    std::string reason;    // why this file system, in plain words
};

// Mounts the private file system at `root` (an existing directory), nosuid,nodev,noexec, or adopts
// a tmpfs or ramfs already mounted there. `tmpfs_size_bytes` is tmpfs's own limit; ramfs has none,
// so the caller bounds what it writes. Needs CAP_SYS_ADMIN.
Result<MountOutcome> mount_private(const std::string& root, MountChoice choice, size_t tmpfs_size_bytes);

}  // namespace credgate::delivery
