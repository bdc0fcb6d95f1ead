// SPDX-License-Identifier: Apache-2.0
// The resolver that reads the host: stat, passwd and group, cgroup2, SHA-256 of files.
#include "identity/host_resolver.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

namespace credgate::identity {

namespace {

constexpr size_t kHashChunk = 64 * 1024;

// Why the cgroup at `rel` (a directory named like a unit) is not the system manager's unit, or
// nullopt when it is: every directory before it must be a *.slice, every directory on the path
// owned by root, and none above it writable by group or others (anyone could create cgroups there).
std::optional<std::string> foreign_unit_reason(const std::string& root, const std::string& rel) {
    std::vector<std::string> parts;
    for (size_t start = 0; start <= rel.size();) {
        const size_t slash = std::min(rel.find('/', start), rel.size());
        parts.push_back(rel.substr(start, slash - start));
        start = slash + 1;
    }
    std::string dir = root, shown;
    for (size_t i = 0; i <= parts.size(); ++i) {
        if (i > 0) {
            dir += "/" + parts[i - 1];
            shown += (shown.empty() ? "" : "/") + parts[i - 1];
        }
        const bool is_unit = i == parts.size();
        const std::string name = shown.empty() ? fmt::format("the cgroup root '{}'", root) : "'" + shown + "'";
        if (i > 0 && !is_unit && !parts[i - 1].ends_with(".slice"))
            return fmt::format("{} on its path is not a slice: every cgroup below a unit belongs to that unit "
                               "(a user's delegated subtree, user@UID.service, is one)",
                               name);
        struct stat st{};
        if (::lstat(dir.c_str(), &st) != 0) return fmt::format("cannot stat {}: {}", name, std::strerror(errno));
        if (!S_ISDIR(st.st_mode)) return fmt::format("{} is not a directory", name);
        if (st.st_uid != 0)
            return fmt::format("{} is owned by uid {}, not root: a delegated subtree cannot stand in for a system unit",
                               name, st.st_uid);
        if (!is_unit && (st.st_mode & (S_IWGRP | S_IWOTH)))
            return fmt::format("{} is writable by group or others (mode {:04o}): anyone could have created it", name,
                               st.st_mode & 07777);
    }
    return std::nullopt;
}

}  // namespace

Result<FileKey> SystemResolver::file(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        return fail(ErrorKind::not_found, fmt::format("cannot stat '{}': {}", path, std::strerror(errno)));
    return FileKey{kernel_dev(st.st_dev), st.st_ino};
}

Result<std::string> SystemResolver::sha256_hex(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorKind::not_found, fmt::format("cannot open '{}' to hash it", path));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx);
        return fail(ErrorKind::internal, "cannot initialise SHA-256");
    }
    std::vector<char> buf(kHashChunk);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
    }
    const bool read_ok = in.eof();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (!read_ok) return fail(ErrorKind::internal, fmt::format("cannot read '{}' to hash it", path));
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

Result<uint32_t> SystemResolver::user(const std::string& name) {
    struct passwd pw{}, *out = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &out) != 0 || !out)
        return fail(ErrorKind::not_found, fmt::format("no user '{}'", name));
    return out->pw_uid;
}

Result<uint32_t> SystemResolver::group(const std::string& name) {
    struct group gr{}, *out = nullptr;
    std::vector<char> buf(16384);
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &out) != 0 || !out)
        return fail(ErrorKind::not_found, fmt::format("no group '{}'", name));
    return out->gr_gid;
}

Result<uint64_t> SystemResolver::cgroup(const std::string& path) {
    std::string rel = path;
    while (!rel.empty() && rel.front() == '/') rel.erase(rel.begin());
    const std::string full = rel.empty() ? cgroup_root_ : cgroup_root_ + "/" + rel;
    struct stat st{};
    if (::stat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(ErrorKind::not_found, fmt::format("no cgroup '{}' ({})", path, full));
    // On cgroup2 the inode number is the kernel's cgroup id.
    return static_cast<uint64_t>(st.st_ino);
}

std::string unit_cgroup_name(const std::string& unit) {
    return unit.find('.') == std::string::npos ? unit + ".service" : unit;
}

Result<UnitCgroup> SystemResolver::unit_cgroup(const std::string& unit_in) {
    const std::string unit = unit_cgroup_name(unit_in);
    namespace fs = std::filesystem;
    // Every directory named like the unit, found by walking the whole tree: the ones that are not the
    // system manager's are named in the warning, so an operator sees an attempt to stand in for it.
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(cgroup_root_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code st_ec;
        if (!fs::is_directory(it->symlink_status(st_ec))) continue;
        if (it.depth() >= kMaxUnitSearchDepth) it.disable_recursion_pending();
        if (it->path().filename() == unit) found.push_back(it->path().lexically_relative(cgroup_root_).string());
    }
    if (ec)
        return fail(ErrorKind::internal, fmt::format("cannot search '{}' for unit '{}': {}", cgroup_root_, unit, ec.message()));

    const std::string preferred = "system.slice/" + unit;
    std::vector<std::string> candidates;
    UnitCgroup out;
    for (const auto& rel : found) {
        if (auto why = foreign_unit_reason(cgroup_root_, rel)) out.passed_over.push_back(fmt::format("'{}': {}", rel, *why));
        else candidates.push_back(rel);
    }
    if (candidates.empty()) {
        std::string message = fmt::format("no unit '{}' of the system manager is running under '{}'", unit, cgroup_root_);
        if (!out.passed_over.empty())
            message += fmt::format(" (passed over {})", fmt::join(out.passed_over, "; "));
        return fail(ErrorKind::not_found, std::move(message));
    }
    auto components = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
    std::sort(candidates.begin(), candidates.end(), [&](const std::string& a, const std::string& b) {
        if ((a == preferred) != (b == preferred)) return a == preferred;
        if (components(a) != components(b)) return components(a) < components(b);
        return a < b;
    });
    for (size_t i = 1; i < candidates.size(); ++i)
        out.passed_over.push_back(fmt::format("'{}': another root-owned cgroup named like the unit; '{}' is used",
                                              candidates[i], candidates[0]));
    auto id = cgroup(candidates[0]);
    if (!id) return fail(id.error());
    out.id = *id;
    out.path = candidates[0];
    return out;
}

}  // namespace credgate::identity
