// SPDX-License-Identifier: Apache-2.0
// File delivery: credential files under a private tmpfs or ramfs (or a plain directory in tests),
// replaced by write-to-temp + fsync + rename in the same directory.
#pragma once

#include "delivery/private_mount.hpp"
#include "delivery/sink.hpp"
#include "policy/values.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace credgate::delivery {

// The most bytes credgated keeps published at once, over every credential file. ramfs has no
// limit of its own, so this bound is credgated's; tmpfs gets it, plus room for whole pages
// (kMountSizeBytes), as its size.
inline constexpr size_t kMaxPublishedBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxFileBytes = 1024 * 1024;
// tmpfs counts whole pages: each binding's file and, while it is being replaced, its temporary file
// take a page each however small they are, so a mount of kMaxPublishedBytes alone is full at 4,096
// files (4 KiB pages), whatever their bytes. The mount's limit leaves those pages for every binding a
// node may hold, on top of the bytes themselves, which max_total_bytes bounds. It is a limit, not an
// allocation: tmpfs holds only the pages in use.
inline constexpr size_t kPageBytes = 4096;
inline constexpr size_t kMountSizeBytes = kMaxPublishedBytes + 2 * policy::kMaxBindings * kPageBytes;

struct FileSinkOptions {
    std::string root = "/run/credgate/credentials";
    // Mount a private file system at root (needs root). Off: use root as a plain directory.
    bool mount = false;
    MountChoice filesystem = MountChoice::automatic;
    size_t mount_size_bytes = kMountSizeBytes;
    size_t max_total_bytes = kMaxPublishedBytes;
    size_t max_file_bytes = kMaxFileBytes;
    Hooks hooks;
};

class FileSink final : public Sink {
public:
    // Creates the root (0711) and, when asked, mounts the private file system there (or adopts
    // the one a previous run left). Fails when the root exists as something other than a
    // directory, or when asked to mount without privilege.
    static Result<std::unique_ptr<FileSink>> create(FileSinkOptions options);
    ~FileSink() override;

    Result<Published> publish(const Target& target, std::string_view bytes, const Ownership& owner) override;
    Result<void> remove(const std::string& workload_uuid, const std::string& binding) override;
    std::string path_of(const Target& target) const override;
    // Every regular file under the root, as <uuid>/crb-<binding>/<file> (a previous credgated's
    // included); temp files of an interrupted publish are listed too, under their temp names.
    Result<std::vector<std::pair<Target, FileId>>> list();
    // Removes one file (then its binding and workload directories if they are empty); removing what
    // does not exist succeeds.
    Result<void> remove_file(const Target& target);

    const std::string& root() const noexcept { return options_.root; }
    bool mounted() const noexcept { return mount_.filesystem != Filesystem::directory; }
    // What is mounted at the root, and why.
    const MountOutcome& mount() const noexcept { return mount_; }
    // Bytes of the credential files published and not removed since this sink was created.
    size_t published_bytes() const noexcept { return published_bytes_; }
    size_t max_total_bytes() const noexcept { return options_.max_total_bytes; }

private:
    FileSink(FileSinkOptions options, int root_fd, MountOutcome mount);
    Result<int> open_dir(int parent_fd, const std::string& parent_path, const std::string& name, bool create);
    void account(const std::string& path, size_t bytes);

    FileSinkOptions options_;
    int root_fd_ = -1;
    MountOutcome mount_;
    unsigned long temp_counter_ = 0;
    std::map<std::string, size_t> sizes_;  // final path -> bytes published there
    size_t published_bytes_ = 0;
};

}  // namespace credgate::delivery
