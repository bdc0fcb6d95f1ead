// SPDX-License-Identifier: Apache-2.0
// A temporary directory removed with everything in it when the test ends. Prefers /dev/shm: the
// sink's production root is a tmpfs, and fsync there costs nothing.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <unistd.h>

class TempDir {
public:
    TempDir() {
        const std::filesystem::path base =
            ::access("/dev/shm", W_OK) == 0 ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
        std::string tmpl = (base / "credgate-delivery-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};
