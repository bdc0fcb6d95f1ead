// SPDX-License-Identifier: Apache-2.0
// sysfs delivery: credential files held by credgate.ko under /sys/module/credgate/credentials,
// created empty, registered with enforcement, then given content through /dev/credgate (ABI.md).
#pragma once

#include "delivery/sink.hpp"

#include <sys/stat.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace credgate::delivery {

inline constexpr std::string_view kSysfsRoot = "/sys/module/credgate/credentials";
inline constexpr std::string_view kSysfsControl = "/dev/credgate";

struct SysfsSinkOptions {
    std::string root{kSysfsRoot};
    std::string control{kSysfsControl};
    Hooks hooks;
};

// Whether credgate.ko is loaded: its credentials directory exists.
bool sysfs_module_loaded(const std::string& root = std::string{kSysfsRoot});

class SysfsSink final : public Sink {
public:
    // Fails (unsupported) when the module is not loaded, naming the command that loads it.
    static Result<std::unique_ptr<SysfsSink>> create(SysfsSinkOptions options);

    // A new node is created empty, passed to hooks.before_content, and only then given content.
    // A node that exists with the same owner keeps its inode: only its content is replaced, after it
    // was passed to hooks.before_content once by this sink (a node a previous credgated left is
    // registered again before any new content reaches it). One with another owner is removed and
    // created again.
    Result<Published> publish(const Target& target, std::string_view bytes, const Ownership& owner) override;
    Result<void> remove(const std::string& workload_uuid, const std::string& binding) override;
    std::string path_of(const Target& target) const override;
    // Where `target` is under `root`, whether or not the module is loaded.
    static std::string path_in(const std::string& root, const Target& target);

    // Every credential file the module holds now (a previous credgated's too).
    Result<std::vector<std::pair<Target, FileId>>> list() const;
    // Removes one file (and its directories once empty); hooks.after_retire is called for it.
    Result<void> remove_file(const Target& target);
    const std::string& root() const noexcept { return options_.root; }

private:
    SysfsSink(SysfsSinkOptions options, uint64_t fs_magic) : options_(std::move(options)), fs_magic_(fs_magic) {}
    Result<void> submit(unsigned opcode, const Target& target, std::string_view content,
                        const Ownership& owner) const;
    FileId id_of(const struct stat& st) const;
    // The module's max_files parameter file: <root>/../parameters/max_files.
    std::string max_files_path() const;
    // A refused CREATE; ENOSPC names the module's bound on files and its parameter.
    Error create_refused(const Target& target, int e) const;

    SysfsSinkOptions options_;
    uint64_t fs_magic_ = 0;  // of the root's file system: sysfs's, except in unit tests
    std::set<std::pair<uint64_t, uint64_t>> registered_;  // (st_dev, st_ino) passed to before_content
};

}  // namespace credgate::delivery
