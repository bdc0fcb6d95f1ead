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

// Registers the file at `path` unless it is a credgated executable already: true when registered
// now, false when it was already; the error says why it cannot be (logged by the caller).
Result<bool> register_path(Enforcer::Impl& impl, const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fail(ErrorKind::not_found, errno_text(errno));
    const FileKey key{identity::kernel_dev(st.st_dev), st.st_ino};
    if (impl.maps.is_owner_exe(key)) return false;
    // Root processes of the file become credgated: only root may be able to put it there.
    auto risks = identity::replaceable_by_non_root(path);
    if (!risks) return fail(risks.error());
    if (!risks->empty())
        return fail(ErrorKind::permission, fmt::format("'{}' is {}, so a non-root user could replace it",
                                                       risks->front().path, risks->front().reason));
    if (auto r = impl.maps.add_owner(path); !r) return fail(r.error());
    log::notice(kComponent, "Registered '{}' (device {}, inode {}) as a credgated executable", path, key.dev,
                key.ino);
    return true;
}

// Registers each of `paths` whose file is not a credgated executable yet; returns how many. A path
// that cannot be registered is logged and skipped: credgated itself is registered already.
size_t register_paths(Enforcer::Impl& impl, const std::vector<std::string>& paths) {
    size_t registered = 0;
    for (const auto& path : paths) {
        auto r = register_path(impl, path);
        if (!r)
            log::warning(kComponent, "Failed to register '{}' as a credgated executable: {}", path, r.error().message);
        else if (*r)
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

const std::string& Enforcer::own_path() const noexcept { return impl_->self_path; }

Result<bool> Enforcer::register_own_path() {
    if (impl_->self_path.empty())
        return fail(ErrorKind::internal, "credgated's own executable path is unknown (/proc/self/exe was unreadable)");
    auto r = detail::register_path(*impl_, impl_->self_path);
    if (!r) return fail(r.error().kind, fmt::format("cannot register '{}': {}", impl_->self_path, r.error().message));
    return r;
}

}  // namespace credgate::enforce
