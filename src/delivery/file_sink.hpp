// SPDX-License-Identifier: Apache-2.0
// File delivery: credential files under a private tmpfs (or a plain directory in tests), replaced
// by write-to-temp + fsync + rename in the same directory.
#pragma once

#include "delivery/sink.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace credgate::delivery {

struct FileSinkOptions {
    std::string root = "/run/credgate/credentials";
    // Mount a private tmpfs at root (needs root). Off: use root as a plain directory.
    bool mount = false;
    size_t mount_size_bytes = 16 * 1024 * 1024;
    size_t max_file_bytes = 1024 * 1024;
    Hooks hooks;
};

class FileSink final : public Sink {
public:
    // Creates the root (0711) and, when asked, mounts the tmpfs there. Fails when the root exists
    // as something other than a directory, or when asked to mount without privilege.
    static Result<std::unique_ptr<FileSink>> create(FileSinkOptions options);
    ~FileSink() override;

    Result<Published> publish(const Target& target, std::string_view bytes) override;
    Result<void> remove(const std::string& workload_uuid, const std::string& binding) override;
    std::string path_of(const Target& target) const override;

    const std::string& root() const noexcept { return options_.root; }
    bool mounted() const noexcept { return mounted_; }

private:
    FileSink(FileSinkOptions options, int root_fd, bool mounted);
    Result<int> open_dir(int parent_fd, const std::string& parent_path, const std::string& name, bool create);

    FileSinkOptions options_;
    int root_fd_ = -1;
    bool mounted_ = false;
    unsigned long temp_counter_ = 0;
};

}  // namespace credgate::delivery
