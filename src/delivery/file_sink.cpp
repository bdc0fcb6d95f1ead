// SPDX-License-Identifier: Apache-2.0
// File delivery backend. Every path step is opened relative to the root's fd with O_NOFOLLOW, so
// neither a name nor a planted symlink can lead a write outside the root.
#include "delivery/file_sink.hpp"

#include "common/fd.hpp"
#include "common/log.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

namespace credgate::delivery {
namespace {

constexpr std::string_view kComponent = "delivery";
// Modes: the kernel programs decide who may open a credential (DESIGN §3); these bits are the
// second layer. A file whose identity pins one uid is that uid's, 0400; any other file is 0644,
// since its workload may run under any uid. Directories are root's, 0755, so every workload can
// reach its file; the root is 0711 so other users cannot list which workloads have credentials.
constexpr mode_t kRootMode = 0711;
constexpr mode_t kDirMode = 0755;
constexpr mode_t kOwnedFileMode = 0400;
constexpr mode_t kSharedFileMode = 0644;
constexpr std::string_view kTempPrefix = ".tmp-";

std::string errno_text(int e) { return std::strerror(e); }

Error sys_error(std::string_view verb, std::string_view path, int e) {
    const ErrorKind kind = e == EACCES || e == EPERM ? ErrorKind::permission
                           : e == ENOENT            ? ErrorKind::not_found
                                                    : ErrorKind::internal;
    return Error{kind, fmt::format("cannot {} '{}': {}", verb, path, errno_text(e))};
}

bool name_char_ok(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

Result<void> validate_name(std::string_view what, std::string_view name, size_t max) {
    if (name.empty()) return fail(ErrorKind::invalid_argument, fmt::format("{} is empty", what));
    if (name.size() > max)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("{} '{}' is longer than {} characters", what, name, max));
    // A leading letter or digit rules out ".", "..", hidden files and our temp names.
    if (!alnum(name.front()))
        return fail(ErrorKind::invalid_argument,
                    fmt::format("{} '{}' must start with a letter or a digit", what, name));
    for (char c : name)
        if (!name_char_ok(c))
            return fail(ErrorKind::invalid_argument,
                        fmt::format("{} '{}' may only contain letters, digits, '.', '_' and '-'", what, name));
    return {};
}

Result<void> write_all(int fd, std::string_view bytes, const std::string& path) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(sys_error("write", path, errno));
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<void> make_dirs(const std::filesystem::path& path, mode_t leaf_mode) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return fail(ErrorKind::internal, fmt::format("cannot create '{}': {}",
                                                         path.parent_path().string(), ec.message()));
    if (::mkdir(path.c_str(), leaf_mode) != 0 && errno != EEXIST) return fail(sys_error("create", path.string(), errno));
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return fail(sys_error("stat", path.string(), errno));
    if (!S_ISDIR(st.st_mode))
        return fail(ErrorKind::invalid_argument, fmt::format("'{}' exists and is not a directory", path.string()));
    return {};
}

}  // namespace

Result<void> validate_uuid(std::string_view uuid) {
    bool ok = uuid.size() == 36;
    for (size_t i = 0; ok && i < uuid.size(); ++i) {
        const char c = uuid[i];
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ok = c == '-';
        else
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }
    if (!ok)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("workload uuid '{}' is not a lowercase canonical UUID", uuid));
    return {};
}

// 200 leaves room for the "crb-" prefix within NAME_MAX (255).
Result<void> validate_binding_name(std::string_view binding) { return validate_name("binding name", binding, 200); }
Result<void> validate_file_name(std::string_view name) { return validate_name("file name", name, 200); }

Result<void> validate_target(const Target& t) {
    if (auto r = validate_uuid(t.workload_uuid); !r) return r;
    if (auto r = validate_binding_name(t.binding); !r) return r;
    return validate_file_name(t.file_name);
}

Result<std::unique_ptr<FileSink>> FileSink::create(FileSinkOptions options) {
    const std::filesystem::path root(options.root);
    if (!root.is_absolute() || options.root.find("/../") != std::string::npos || options.root.ends_with("/.."))
        return fail(ErrorKind::invalid_argument,
                    fmt::format("root '{}' must be an absolute path without '..'", options.root));
    if (options.mount && ::geteuid() != 0)
        return fail(ErrorKind::permission,
                    fmt::format("cannot mount a private file system at '{}': credgated is not running "
                                "as root",
                                options.root));
    if (auto r = make_dirs(root, kRootMode); !r) return fail(r.error());
    MountOutcome mount;
    if (options.mount) {
        auto m = mount_private(options.root, options.filesystem, options.mount_size_bytes);
        if (!m) return fail(m.error());
        mount = std::move(*m);
        const auto level = may_swap(mount.filesystem) ? log::Level::warning : log::Level::notice;
        log::write(level, kComponent,
                   fmt::format("{} {} at '{}': {}; credential files are bounded to {} bytes in all",
                               mount.adopted ? "Adopted" : "Mounted", to_string(mount.filesystem), options.root,
                               mount.reason, options.max_total_bytes));
    } else {
        mount.reason = "a plain directory, not a private mount (credgated is not root): files may be swapped";
    }
    const int fd = ::open(options.root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail(sys_error("open", options.root, errno));
    // After mounting: the mode of a fresh ramfs root is not ours to assume.
    if (::fchmod(fd, kRootMode) != 0) {
        const int e = errno;
        ::close(fd);
        return fail(sys_error("chmod", options.root, e));
    }
    return std::unique_ptr<FileSink>(new FileSink(std::move(options), fd, std::move(mount)));
}

FileSink::FileSink(FileSinkOptions options, int root_fd, MountOutcome mount)
    : options_(std::move(options)), root_fd_(root_fd), mount_(std::move(mount)) {}

FileSink::~FileSink() {
    // The mount stays: files outlive a restart of credgated, whose refresh engine replaces them.
    if (root_fd_ >= 0) ::close(root_fd_);
}

void FileSink::account(const std::string& path, size_t bytes) {
    if (auto it = sizes_.find(path); it != sizes_.end()) {
        published_bytes_ -= it->second;
        sizes_.erase(it);
    }
    if (bytes > 0) {
        sizes_[path] = bytes;
        published_bytes_ += bytes;
    }
}

std::string FileSink::path_of(const Target& t) const {
    return fmt::format("{}/{}/{}{}/{}", options_.root, t.workload_uuid, kBindingDirPrefix, t.binding, t.file_name);
}

Result<int> FileSink::open_dir(int parent_fd, const std::string& parent_path, const std::string& name, bool create) {
    const std::string path = parent_path + "/" + name;
    if (create && ::mkdirat(parent_fd, name.c_str(), kDirMode) != 0 && errno != EEXIST)
        return fail(sys_error("create directory", path, errno));
    // O_NOFOLLOW: a symlink planted in place of the directory fails with ELOOP instead of being followed.
    UniqueFd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return fail(sys_error("open directory", path, errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(sys_error("stat", path, errno));
    if (create && (st.st_mode & 07777) != kDirMode && ::fchmod(fd.get(), kDirMode) != 0)
        return fail(sys_error("chmod", path, errno));
    return fd.release();
}

Result<Published> FileSink::publish(const Target& target, std::string_view bytes, const Ownership& owner) {
    if (auto r = validate_target(target); !r) return fail(r.error());
    const std::string final_path = path_of(target);
    if (bytes.size() > options_.max_file_bytes)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("cannot publish '{}': {} bytes exceed the {} byte limit", final_path,
                                bytes.size(), options_.max_file_bytes));
    const auto known = sizes_.find(final_path);
    const size_t total_after = published_bytes_ - (known == sizes_.end() ? 0 : known->second) + bytes.size();
    if (total_after > options_.max_total_bytes)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("cannot publish '{}': its {} bytes would bring the published credential "
                                "files to {} bytes, above credgated's limit of {} bytes in all",
                                final_path, bytes.size(), total_after, options_.max_total_bytes));

    auto uuid_fd = open_dir(root_fd_, options_.root, target.workload_uuid, true);
    if (!uuid_fd) return fail(uuid_fd.error());
    UniqueFd uuid_dir(*uuid_fd);
    const std::string binding_dir_name = std::string(kBindingDirPrefix) + target.binding;
    auto bind_fd = open_dir(uuid_dir.get(), options_.root + "/" + target.workload_uuid, binding_dir_name, true);
    if (!bind_fd) return fail(bind_fd.error());
    UniqueFd dir(*bind_fd);

    const std::string temp_name =
        fmt::format("{}{}-{}-{}", kTempPrefix, target.file_name, ::getpid(), ++temp_counter_);
    const std::string temp_path = final_path.substr(0, final_path.rfind('/') + 1) + temp_name;
    // 0600 until complete: nobody opens a half-written file by its temp name either.
    UniqueFd file(::openat(dir.get(), temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (file.get() < 0) return fail(sys_error("create", temp_path, errno));
    auto discard = [&](Error e) -> Result<Published> {
        file.reset();
        ::unlinkat(dir.get(), temp_name.c_str(), 0);
        return fail(std::move(e));
    };

    struct stat st {};
    if (::fstat(file.get(), &st) != 0) return discard(sys_error("stat", temp_path, errno));
    const FileId id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
    // Enforcement learns the inode while the file is still empty, so there is no instant at which
    // the secret exists in an inode the kernel programs do not protect.
    if (options_.hooks.before_content) {
        if (auto r = options_.hooks.before_content(target, id); !r)
            return discard(Error{r.error().kind, fmt::format("cannot publish '{}': {}", final_path,
                                                             r.error().message)});
    }
    // The owner gets the file while it is still empty: if that fails, no secret was ever written
    // into a file with other permissions. The open fd keeps its write access after the chmod.
    if (owner.uid) {
        if (::fchown(file.get(), static_cast<uid_t>(*owner.uid), static_cast<gid_t>(-1)) != 0)
            return discard(sys_error(fmt::format("give uid {}", *owner.uid), temp_path, errno));
        if (::fchmod(file.get(), kOwnedFileMode) != 0) return discard(sys_error("chmod", temp_path, errno));
    }
    if (auto r = write_all(file.get(), bytes, temp_path); !r) return discard(r.error());
    if (::fsync(file.get()) != 0) return discard(sys_error("fsync", temp_path, errno));
    // A shared file opens up only once complete, so nobody reads it half-written by its temp name.
    if (!owner.uid && ::fchmod(file.get(), kSharedFileMode) != 0) return discard(sys_error("chmod", temp_path, errno));
    if (::close(file.release()) != 0) return discard(sys_error("close", temp_path, errno));

    std::optional<FileId> old;
    struct stat old_st {};
    if (::fstatat(dir.get(), target.file_name.c_str(), &old_st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(old_st.st_mode))
        old = FileId{static_cast<uint64_t>(old_st.st_dev), static_cast<uint64_t>(old_st.st_ino)};

    if (::renameat(dir.get(), temp_name.c_str(), dir.get(), target.file_name.c_str()) != 0)
        return discard(sys_error("rename into", final_path, errno));
    if (::fsync(dir.get()) != 0)
        log::warning(kComponent, "Failed to fsync directory of '{}': {}", final_path, errno_text(errno));
    account(final_path, bytes.size());
    if (old && !(*old == id) && options_.hooks.after_retire) options_.hooks.after_retire(target, *old);
    return Published{final_path, id, owner.uid.value_or(0), owner.uid ? kOwnedFileMode : kSharedFileMode};
}

namespace {

// The names in the directory `fd` (which stays open), without "." and "..".
Result<std::vector<std::string>> names_in(int fd, const std::string& path) {
    const int listing_fd = ::dup(fd);
    if (listing_fd < 0) return fail(sys_error("list", path, errno));
    DIR* listing = ::fdopendir(listing_fd);
    if (!listing) {
        ::close(listing_fd);
        return fail(sys_error("list", path, errno));
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(listing)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(listing);
    return names;
}

}  // namespace

Result<std::vector<std::pair<Target, FileId>>> FileSink::list() {
    std::vector<std::pair<Target, FileId>> out;
    auto uuids = names_in(root_fd_, options_.root);
    if (!uuids) return fail(uuids.error());
    for (const auto& uuid : *uuids) {
        if (!validate_uuid(uuid)) continue;
        auto uuid_fd = open_dir(root_fd_, options_.root, uuid, false);
        if (!uuid_fd) continue;  // removed meanwhile, or not a directory
        UniqueFd uuid_dir(*uuid_fd);
        auto dirs = names_in(uuid_dir.get(), options_.root + "/" + uuid);
        if (!dirs) return fail(dirs.error());
        for (const auto& dir : *dirs) {
            if (!dir.starts_with(kBindingDirPrefix)) continue;
            const std::string binding = dir.substr(kBindingDirPrefix.size());
            if (!validate_binding_name(binding)) continue;
            const std::string dir_path = options_.root + "/" + uuid + "/" + dir;
            auto bind_fd = open_dir(uuid_dir.get(), options_.root + "/" + uuid, dir, false);
            if (!bind_fd) continue;
            UniqueFd bind_dir(*bind_fd);
            auto files = names_in(bind_dir.get(), dir_path);
            if (!files) return fail(files.error());
            for (const auto& file : *files) {
                struct stat st {};
                if (::fstatat(bind_dir.get(), file.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
                    continue;
                out.emplace_back(Target{uuid, binding, file},
                                 FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
            }
        }
    }
    return out;
}

Result<void> FileSink::remove_file(const Target& target) {
    if (auto r = validate_uuid(target.workload_uuid); !r) return r;
    if (auto r = validate_binding_name(target.binding); !r) return r;
    // A temp name starts with '.', which validate_file_name refuses: only '/' and the dot names are out.
    if (target.file_name.empty() || target.file_name == "." || target.file_name == ".." ||
        target.file_name.find('/') != std::string::npos)
        return fail(ErrorKind::invalid_argument, fmt::format("file name '{}' is not a name", target.file_name));
    const std::string uuid_path = options_.root + "/" + target.workload_uuid;
    auto uuid_fd = open_dir(root_fd_, options_.root, target.workload_uuid, false);
    if (!uuid_fd) return uuid_fd.error().kind == ErrorKind::not_found ? Result<void>{} : fail(uuid_fd.error());
    UniqueFd uuid_dir(*uuid_fd);
    const std::string binding_dir_name = std::string(kBindingDirPrefix) + target.binding;
    const std::string binding_path = uuid_path + "/" + binding_dir_name;
    auto bind_fd = open_dir(uuid_dir.get(), uuid_path, binding_dir_name, false);
    if (!bind_fd) return bind_fd.error().kind == ErrorKind::not_found ? Result<void>{} : fail(bind_fd.error());
    UniqueFd dir(*bind_fd);
    const std::string path = binding_path + "/" + target.file_name;
    struct stat st {};
    if (::fstatat(dir.get(), target.file_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? Result<void>{} : fail(sys_error("stat", path, errno));
    if (::unlinkat(dir.get(), target.file_name.c_str(), 0) != 0 && errno != ENOENT)
        return fail(sys_error("remove", path, errno));
    account(path, 0);
    if (S_ISREG(st.st_mode) && options_.hooks.after_retire)
        options_.hooks.after_retire(target, FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    // Directories other files still use stay.
    if (::unlinkat(uuid_dir.get(), binding_dir_name.c_str(), AT_REMOVEDIR) == 0)
        ::unlinkat(root_fd_, target.workload_uuid.c_str(), AT_REMOVEDIR);
    return {};
}

Result<void> FileSink::remove(const std::string& workload_uuid, const std::string& binding) {
    if (auto r = validate_uuid(workload_uuid); !r) return r;
    if (auto r = validate_binding_name(binding); !r) return r;
    const std::string uuid_path = options_.root + "/" + workload_uuid;
    auto uuid_fd = open_dir(root_fd_, options_.root, workload_uuid, false);
    if (!uuid_fd) return uuid_fd.error().kind == ErrorKind::not_found ? Result<void>{} : fail(uuid_fd.error());
    UniqueFd uuid_dir(*uuid_fd);
    const std::string binding_dir_name = std::string(kBindingDirPrefix) + binding;
    const std::string binding_path = uuid_path + "/" + binding_dir_name;

    auto bind_fd = open_dir(uuid_dir.get(), uuid_path, binding_dir_name, false);
    if (bind_fd) {
        // fdopendir takes ownership of its fd; give it a duplicate so `dir` stays usable.
        UniqueFd dir(*bind_fd);
        const int listing_fd = ::dup(dir.get());
        if (listing_fd < 0) return fail(sys_error("list", binding_path, errno));
        DIR* listing = ::fdopendir(listing_fd);
        if (!listing) {
            ::close(listing_fd);
            return fail(sys_error("list", binding_path, errno));
        }
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(listing)) {
            std::string_view n = e->d_name;
            if (n != "." && n != "..") names.emplace_back(n);
        }
        ::closedir(listing);
        for (const auto& name : names) {
            struct stat st {};
            if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            if (S_ISDIR(st.st_mode))
                return fail(ErrorKind::internal,
                            fmt::format("cannot remove '{}': unexpected directory '{}' inside",
                                        binding_path, name));
            if (::unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT)
                return fail(sys_error("remove", binding_path + "/" + name, errno));
            account(binding_path + "/" + name, 0);
            if (S_ISREG(st.st_mode) && options_.hooks.after_retire)
                options_.hooks.after_retire(Target{workload_uuid, binding, name},
                                            FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
        }
        if (::unlinkat(uuid_dir.get(), binding_dir_name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
            return fail(sys_error("remove directory", binding_path, errno));
    } else if (bind_fd.error().kind != ErrorKind::not_found) {
        return fail(bind_fd.error());
    }
    // Other bindings of the same workload keep the directory alive.
    if (::unlinkat(root_fd_, workload_uuid.c_str(), AT_REMOVEDIR) != 0 && errno != ENOTEMPTY && errno != EEXIST &&
        errno != ENOENT)
        return fail(sys_error("remove directory", uuid_path, errno));
    return {};
}

}  // namespace credgate::delivery
