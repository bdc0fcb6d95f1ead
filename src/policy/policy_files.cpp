// SPDX-License-Identifier: Apache-2.0
// Policy and settings files on disk: directories walked for *.yaml and *.yml in name order, and each
// file read whole, refused when larger than the limit.
#include "policy/detail/policy_files.hpp"

#include "policy/loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace credgate::policy::detail {
namespace {

namespace fs = std::filesystem;

void file_error(std::vector<Diagnostic>& diags, const std::string& path, Severity severity, std::string message) {
    diags.push_back(Diagnostic{severity, SourceLocation{path, 0, 0}, "", "", std::move(message)});
}

}  // namespace

std::vector<std::string> policy_files(const std::vector<std::string>& paths, std::vector<Diagnostic>& diags) {
    std::vector<std::string> files;
    for (const auto& p : paths) {
        std::error_code ec;
        auto st = fs::status(p, ec);
        if (ec || !fs::exists(st)) {
            file_error(diags, p, Severity::error,
                       fmt::format("cannot read: {}", ec ? ec.message() : "no such file or directory"));
            continue;
        }
        if (!fs::is_directory(st)) {
            files.push_back(p);
            continue;
        }
        std::vector<std::string> in_dir;
        for (auto it = fs::directory_iterator(p, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            auto ext = it->path().extension();
            if ((ext == ".yaml" || ext == ".yml") && it->is_regular_file()) in_dir.push_back(it->path().string());
        }
        if (ec) {
            file_error(diags, p, Severity::error, fmt::format("cannot list directory: {}", ec.message()));
            continue;
        }
        std::sort(in_dir.begin(), in_dir.end());
        if (in_dir.empty()) file_error(diags, p, Severity::warning, "directory holds no *.yaml or *.yml files");
        files.insert(files.end(), in_dir.begin(), in_dir.end());
    }
    return files;
}

std::optional<std::string> read_policy_file(const std::string& path, std::vector<Diagnostic>& diags) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) {
        file_error(diags, path, Severity::error, fmt::format("cannot read: {}", ec.message()));
        return std::nullopt;
    }
    if (size > kMaxPolicyFileBytes) {
        file_error(diags, path, Severity::error,
                   fmt::format("file is {} bytes, larger than the limit of {}", size, kMaxPolicyFileBytes));
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        file_error(diags, path, Severity::error, fmt::format("cannot open: {}", std::strerror(errno)));
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        file_error(diags, path, Severity::error, "read failed");
        return std::nullopt;
    }
    return ss.str();
}

}  // namespace credgate::policy::detail
