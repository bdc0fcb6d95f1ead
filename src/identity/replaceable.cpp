// SPDX-License-Identifier: Apache-2.0
// The path walk behind replaceable_by_non_root: each step looked up with lstat from "/", symlinks
// expanded in place (like the kernel's lookup), each directory judged by the entry looked up in it.
#include "identity/replaceable.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <set>

namespace credgate::identity {
namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS
constexpr size_t kMaxLinkTarget = 4096;

std::deque<std::string> components(const std::string& path) {
    std::deque<std::string> out;
    for (size_t start = 0; start <= path.size();) {
        const size_t slash = std::min(path.find('/', start), path.size());
        if (slash > start) out.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

std::string join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

std::string parent(const std::string& dir) {
    const size_t slash = dir.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
}

std::string mode_text(const struct stat& st) { return fmt::format("{:04o}", st.st_mode & 07777); }

// "group 100", "others", "group 100 and by others"; nullopt when neither may write.
std::optional<std::string> writers(const struct stat& st) {
    const bool group = st.st_mode & S_IWGRP, others = st.st_mode & S_IWOTH;
    if (group && others) return fmt::format("group {} and by others", st.st_gid);
    if (group) return fmt::format("group {}", st.st_gid);
    if (others) return std::string("others");
    return std::nullopt;
}

// Why a non-root uid could rename `entry` (looked up in `dir`) away and put another in its place.
std::vector<std::string> directory_reasons(const struct stat& dir, const struct stat& entry, const std::string& name) {
    std::vector<std::string> why;
    if (dir.st_uid != 0) why.push_back(fmt::format("owned by uid {}", dir.st_uid));
    // With the sticky bit only the entry's owner, the directory's owner or root may rename the entry.
    const bool sticky_protects = (dir.st_mode & S_ISVTX) && dir.st_uid == 0 && entry.st_uid == 0;
    if (sticky_protects) return why;
    const std::string sticky_note =
        (dir.st_mode & S_ISVTX) ? fmt::format(", and '{}' is owned by uid {}, so the sticky bit does not stop its "
                                              "renaming",
                                              name, entry.st_uid)
                                : std::string{};
    if (auto w = writers(dir)) why.push_back(fmt::format("writable by {} (mode {}{})", *w, mode_text(dir), sticky_note));
    return why;
}

std::vector<std::string> file_reasons(const struct stat& file) {
    std::vector<std::string> why;
    if (file.st_uid != 0) why.push_back(fmt::format("owned by uid {}", file.st_uid));
    if (auto w = writers(file)) why.push_back(fmt::format("writable by {} (mode {})", *w, mode_text(file)));
    return why;
}

}  // namespace

Result<std::vector<ReplaceRisk>> replaceable_by_non_root(const std::string& program) {
    if (program.empty() || program.front() != '/')
        return fail(ErrorKind::invalid_argument, fmt::format("'{}' is not an absolute path", program));
    std::vector<ReplaceRisk> risks;
    std::set<std::string> reported;
    auto report = [&](const std::string& path, const std::vector<std::string>& why, bool is_program) {
        if (why.empty() || !reported.insert(path).second) return;
        std::string reason = why.front();
        for (size_t i = 1; i < why.size(); ++i) reason += " and " + why[i];
        risks.push_back({path, std::move(reason), is_program});
    };

    std::string dir = "/";
    struct stat dir_st{};
    if (::lstat("/", &dir_st) != 0)
        return fail(ErrorKind::internal, fmt::format("cannot stat '/': {}", std::strerror(errno)));
    std::deque<std::string> todo = components(program);
    int links = 0;
    while (!todo.empty()) {
        const std::string name = todo.front();
        todo.pop_front();
        if (name == ".") continue;
        if (name == "..") {
            dir = parent(dir);
            if (::lstat(dir.c_str(), &dir_st) != 0)
                return fail(ErrorKind::not_found, fmt::format("cannot stat '{}': {}", dir, std::strerror(errno)));
            continue;
        }
        const std::string path = join(dir, name);
        struct stat st{};
        if (::lstat(path.c_str(), &st) != 0)
            return fail(errno == ENOENT ? ErrorKind::not_found : ErrorKind::internal,
                        fmt::format("cannot stat '{}': {}", path, std::strerror(errno)));
        report(dir, directory_reasons(dir_st, st, name), false);
        if (S_ISLNK(st.st_mode)) {
            if (++links > kMaxSymlinks)
                return fail(ErrorKind::invalid_argument, fmt::format("too many symlinks resolving '{}'", program));
            char target[kMaxLinkTarget];
            const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
            if (n < 0)
                return fail(ErrorKind::internal, fmt::format("cannot read symlink '{}': {}", path, std::strerror(errno)));
            const std::string link(target, static_cast<size_t>(n));
            auto more = components(link);
            todo.insert(todo.begin(), more.begin(), more.end());
            if (link.front() == '/') {
                dir = "/";
                if (::lstat("/", &dir_st) != 0)
                    return fail(ErrorKind::internal, fmt::format("cannot stat '/': {}", std::strerror(errno)));
            }
            continue;
        }
        if (todo.empty()) {
            report(path, file_reasons(st), true);
            break;
        }
        if (!S_ISDIR(st.st_mode))
            return fail(ErrorKind::not_found, fmt::format("'{}' on the path of '{}' is not a directory", path, program));
        dir = path;
        dir_st = st;
    }
    return risks;
}

std::string describe_replace_risk(const std::string& program, const ReplaceRisk& risk) {
    const std::string what = !risk.program                ? fmt::format("'{}' on its path", risk.path)
                             : risk.path == program ? std::string("the program itself")
                                                    : fmt::format("the program itself ('{}')", risk.path);
    return fmt::format("process:path '{}' can be replaced by a uid other than root: {} is {}; the kernel protects "
                       "the program's file, not its name, so a program renamed into its place would get this "
                       "identity. Make '{}' owned by root and not writable by group or others (chown root:root '{}'; "
                       "chmod go-w '{}')",
                       program, what, risk.reason, risk.path, risk.path, risk.path);
}

}  // namespace credgate::identity
