// SPDX-License-Identifier: Apache-2.0
// The sysfs Sink: one write() to /dev/credgate per operation, in the layout of credgate_shim_abi.h.
#include "delivery/sysfs_sink.hpp"

#include "credgate_shim_abi.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <vector>

namespace credgate::delivery {

// The module's ABI, checked here as src/enforce checks bpf/include/credgate_abi.h.
static_assert(sizeof(credgate_shim_op) == CREDGATE_SHIM_OP_SIZE);
static_assert(offsetof(credgate_shim_op, content_len) == 16 && offsetof(credgate_shim_op, uuid) == 24);
static_assert(offsetof(credgate_shim_op, dir) == 64 && offsetof(credgate_shim_op, file) == 320);
static_assert(sizeof(credgate_shim_op::dir) > 4 + 200, "crb- plus a 200-byte binding name fits");

namespace {

Error sys_error(std::string_view verb, std::string_view path, int e) {
    const ErrorKind kind = e == EACCES || e == EPERM                    ? ErrorKind::permission
                           : e == ENOENT                                ? ErrorKind::not_found
                           : e == EINVAL || e == EFBIG || e == ENAMETOOLONG ? ErrorKind::invalid_argument
                                                                        : ErrorKind::internal;
    return Error{kind, fmt::format("cannot {} '{}': {}", verb, path, std::strerror(e))};
}

void set_field(char* field, size_t size, std::string_view value) {
    std::memcpy(field, value.data(), value.size() < size ? value.size() : size);
}

std::string binding_dir(const std::string& binding) { return std::string{kBindingDirPrefix} + binding; }

// The module's max_files parameter, beside its credentials directory; nullopt when it cannot be read
// (a module built before the parameter holds CREDGATE_SHIM_FILES_MAX).
std::optional<unsigned> read_max_files(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buf[32];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    ::close(fd);
    if (n <= 0) return std::nullopt;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(buf, buf + n, value);
    if (ec != std::errc{} || (end != buf + n && *end != '\n')) return std::nullopt;
    return value;
}

}  // namespace

bool sysfs_module_loaded(const std::string& root) {
    struct stat st {};
    return ::stat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string SysfsSink::max_files_path() const {
    const auto slash = options_.root.find_last_of('/');
    return (slash == std::string::npos ? std::string{"."} : options_.root.substr(0, slash)) + "/parameters/max_files";
}

Error SysfsSink::create_refused(const Target& t, int e) const {
    Error err = sys_error("create", path_of(t), e);
    if (e != ENOSPC) return err;
    // The module holds as many files as it may: name the bound and where an operator sets it.
    const std::string param = max_files_path();
    if (const auto n = read_max_files(param))
        err.message += fmt::format(" (credgate.ko holds at most {} file{}: {})", *n, *n == 1 ? "" : "s", param);
    else
        err.message += fmt::format(" (credgate.ko holds at most {} files)", CREDGATE_SHIM_FILES_MAX);
    return err;
}

Result<std::unique_ptr<SysfsSink>> SysfsSink::create(SysfsSinkOptions options) {
    if (!sysfs_module_loaded(options.root))
        return fail(ErrorKind::unsupported,
                    fmt::format("the credgate kernel module is not loaded ('{}' is missing): run 'modprobe credgate'",
                                options.root));
    struct statfs fs {};
    if (::statfs(options.root.c_str(), &fs) != 0) return fail(sys_error("statfs", options.root, errno));
    const auto magic = static_cast<uint64_t>(static_cast<uint32_t>(fs.f_type));
    return std::unique_ptr<SysfsSink>(new SysfsSink(std::move(options), magic));
}

FileId SysfsSink::id_of(const struct stat& st) const {
    return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), fs_magic_};
}

std::string SysfsSink::path_in(const std::string& root, const Target& t) {
    return fmt::format("{}/{}/{}/{}", root, t.workload_uuid, binding_dir(t.binding), t.file_name);
}

std::string SysfsSink::path_of(const Target& t) const { return path_in(options_.root, t); }

Result<void> SysfsSink::submit(unsigned opcode, const Target& t, std::string_view content,
                               const Ownership& owner) const {
    if (content.size() > CREDGATE_SHIM_CONTENT_MAX)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("'{}' is {} bytes, over the module's bound of {}", path_of(t), content.size(),
                                CREDGATE_SHIM_CONTENT_MAX));
    credgate_shim_op op{};
    op.magic = CREDGATE_SHIM_MAGIC;
    op.version = CREDGATE_SHIM_VERSION;
    op.opcode = static_cast<__u16>(opcode);
    if (opcode == CREDGATE_SHIM_OP_CREATE && owner.uid) {
        op.flags = CREDGATE_SHIM_F_OWNER;
        op.uid = *owner.uid;
    }
    op.content_len = static_cast<__u32>(content.size());
    set_field(op.uuid, sizeof(op.uuid), t.workload_uuid);
    set_field(op.dir, sizeof(op.dir), binding_dir(t.binding));
    set_field(op.file, sizeof(op.file), t.file_name);

    // One buffer, one write(): the module applies all of it or none. Wiped after use.
    std::vector<char> buf(sizeof(op) + content.size());
    std::memcpy(buf.data(), &op, sizeof(op));
    if (!content.empty()) std::memcpy(buf.data() + sizeof(op), content.data(), content.size());
    const int fd = ::open(options_.control.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        explicit_bzero(buf.data(), buf.size());
        if (e == ENOENT || e == ENXIO || e == ENODEV)
            return fail(ErrorKind::unsupported,
                        fmt::format("cannot open '{}': the credgate kernel module is not loaded: run "
                                    "'modprobe credgate'",
                                    options_.control));
        return fail(sys_error("open", options_.control, e));
    }
    ssize_t n;
    do {
        n = ::write(fd, buf.data(), buf.size());
    } while (n < 0 && errno == EINTR);
    const int e = errno;
    ::close(fd);
    explicit_bzero(buf.data(), buf.size());
    static constexpr const char* kVerbs[] = {"", "create", "replace", "remove"};
    if (n < 0 && e == ENODEV)
        return fail(ErrorKind::unsupported, fmt::format("cannot {} '{}': the credgate kernel module is "
                                                        "going away ('{}': {})",
                                                        kVerbs[opcode], path_of(t), options_.control, std::strerror(e)));
    if (n < 0 && opcode == CREDGATE_SHIM_OP_CREATE) return fail(create_refused(t, e));
    if (n < 0) return fail(sys_error(kVerbs[opcode], path_of(t), e));
    if (static_cast<size_t>(n) != buf.size())
        return fail(ErrorKind::internal, fmt::format("cannot {} '{}': short write to '{}'", kVerbs[opcode],
                                                     path_of(t), options_.control));
    return {};
}

Result<Published> SysfsSink::publish(const Target& target, std::string_view bytes, const Ownership& owner) {
    if (auto r = validate_target(target); !r) return fail(r.error());
    const std::string path = path_of(target);
    const uint32_t want_uid = owner.uid.value_or(0);
    const uint32_t want_mode = owner.uid ? 0400 : 0444;

    struct stat st {};
    bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && (st.st_uid != want_uid || (st.st_mode & 07777) != want_mode)) {
        if (auto r = remove_file(target); !r) return fail(r.error());
        exists = false;
    }
    if (!exists) {
        if (auto r = submit(CREDGATE_SHIM_OP_CREATE, target, {}, owner); !r) return fail(r.error());
        if (::stat(path.c_str(), &st) != 0) return fail(sys_error("stat", path, errno));
    }
    const auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    if (!registered_.contains(key)) {
        if (options_.hooks.before_content) {
            if (auto r = options_.hooks.before_content(target, id_of(st)); !r) {
                // Never leave an unregistered node behind: it must not get content later, and one a
                // previous credgated left must not keep what it holds.
                (void)submit(CREDGATE_SHIM_OP_REMOVE, target, {}, owner);
                return fail(r.error());
            }
        }
        registered_.insert(key);
    }
    if (auto r = submit(CREDGATE_SHIM_OP_REPLACE, target, bytes, owner); !r) return fail(r.error());
    return Published{path, id_of(st), want_uid, want_mode};
}

Result<void> SysfsSink::remove_file(const Target& t) {
    if (auto r = validate_target(t); !r) return r;
    struct stat st {};
    const bool known = ::stat(path_of(t).c_str(), &st) == 0;
    if (auto r = submit(CREDGATE_SHIM_OP_REMOVE, t, {}, Ownership{}); !r && r.error().kind != ErrorKind::not_found)
        return r;
    if (!known) return {};
    registered_.erase({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    if (options_.hooks.after_retire) options_.hooks.after_retire(t, id_of(st));
    return {};
}

namespace {

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') names.emplace_back(e->d_name);
        ::closedir(d);
    }
    return names;
}

}  // namespace

Result<std::vector<std::pair<Target, FileId>>> SysfsSink::list() const {
    std::vector<std::pair<Target, FileId>> out;
    if (::access(options_.root.c_str(), R_OK | X_OK) != 0) return fail(sys_error("open", options_.root, errno));
    for (const auto& uuid : entries(options_.root)) {
        if (!validate_uuid(uuid)) continue;
        for (const auto& dir : entries(options_.root + "/" + uuid)) {
            if (!dir.starts_with(kBindingDirPrefix)) continue;
            const std::string binding = dir.substr(kBindingDirPrefix.size());
            if (!validate_binding_name(binding)) continue;
            for (const auto& file : entries(options_.root + "/" + uuid + "/" + dir)) {
                Target t{uuid, binding, file};
                if (!validate_target(t)) continue;
                struct stat st {};
                if (::stat(path_of(t).c_str(), &st) != 0) continue;  // removed meanwhile
                out.emplace_back(std::move(t), id_of(st));
            }
        }
    }
    return out;
}

Result<void> SysfsSink::remove(const std::string& workload_uuid, const std::string& binding) {
    if (auto r = validate_uuid(workload_uuid); !r) return r;
    if (auto r = validate_binding_name(binding); !r) return r;
    const std::string dir = fmt::format("{}/{}/{}", options_.root, workload_uuid, binding_dir(binding));
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return {};
        return fail(sys_error("open", dir, errno));
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d))
        if (validate_file_name(e->d_name)) names.emplace_back(e->d_name);
    ::closedir(d);
    for (const auto& name : names)
        if (auto r = remove_file({workload_uuid, binding, name}); !r) return r;
    return {};
}

}  // namespace credgate::delivery
