// SPDX-License-Identifier: Apache-2.0
// Who is credgated: this process's executable and the settings' further ones registered in
// credgate_owners, at start and again when a package has replaced a file at one of those paths.
#include "enforce/owners.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "common/log.hpp"
#include "identity/replaceable.hpp"

namespace credgate::enforce {

namespace detail {

namespace {

constexpr std::string_view kComponent = "enforce";

// Registers each of `paths` whose file is not a credgated executable yet; returns how many. A path
// that cannot be registered is logged and skipped: credgated itself is registered already.
size_t register_paths(Enforcer::Impl& impl, const std::vector<std::string>& paths) {
    size_t registered = 0;
    for (const auto& path : paths) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            log::warning(kComponent, "Failed to register '{}' as a credgated executable: {}", path, errno_text(errno));
            continue;
        }
        const FileKey key{identity::kernel_dev(st.st_dev), st.st_ino};
        if (impl.maps.is_owner_exe(key)) continue;
        // Root processes of the file become credgated: only root may be able to put it there.
        auto risks = identity::replaceable_by_non_root(path);
        if (!risks || !risks->empty()) {
            log::warning(kComponent, "Failed to register '{}' as a credgated executable: {}", path,
                         !risks ? risks.error().message
                                : fmt::format("'{}' is {}, so a non-root user could replace it", risks->front().path,
                                              risks->front().reason));
            continue;
        }
        if (auto r = impl.maps.add_owner(path); !r) {
            log::warning(kComponent, "Failed to register '{}' as a credgated executable: {}", path, r.error().message);
            continue;
        }
        log::notice(kComponent, "Registered '{}' (device {}, inode {}) as a credgated executable", path, key.dev,
                    key.ino);
        ++registered;
    }
    return registered;
}

}  // namespace

std::string self_executable_path() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

Result<void> register_self_and_listed(Enforcer::Impl& impl) {
    if (auto r = impl.maps.add_owner("/proc/self/exe"); !r)
        return fail(r.error().kind, fmt::format("cannot register credgated's own executable: {}", r.error().message));
    register_paths(impl, impl.settings.owner_executables);
    return {};
}

}  // namespace detail

size_t Enforcer::register_owners() {
    std::vector<std::string> paths = impl_->settings.owner_executables;
    if (!impl_->self_path.empty()) paths.insert(paths.begin(), impl_->self_path);
    return detail::register_paths(*impl_, paths);
}

}  // namespace credgate::enforce
