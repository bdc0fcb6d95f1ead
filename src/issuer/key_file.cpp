// SPDX-License-Identifier: Apache-2.0
// Loading and atomic creation of the persisted signing key file.
#include "issuer/key_file.hpp"

#include "common/fd.hpp"
#include "common/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace credgate::issuer {
namespace {

// A PEM private key is a few KiB; anything bigger is not ours.
constexpr off_t kMaxKeyFileBytes = 64 * 1024;

std::string errno_text() { return std::strerror(errno); }

using Fd = UniqueFd;

Result<PersistedKey> load(const std::string& path, int raw_fd, policy::SigningAlgorithm alg) {
    Fd fd(raw_fd);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail(ErrorKind::config, "cannot stat key file '" + path + "': " + errno_text());
    if (!S_ISREG(st.st_mode)) return fail(ErrorKind::config, "key file '" + path + "' is not a regular file");
    if ((st.st_mode & 077) != 0)
        return fail(ErrorKind::config, fmt::format("refusing key file '{}': mode {:04o} gives access to group or "
                                                   "other; run chmod 600 on it",
                                                   path, st.st_mode & 07777));
    if (st.st_uid != ::geteuid())
        return fail(ErrorKind::config, fmt::format("refusing key file '{}': owned by uid {}, not {}", path,
                                                   st.st_uid, ::geteuid()));
    if (st.st_size > kMaxKeyFileBytes)
        return fail(ErrorKind::config, fmt::format("key file '{}' is larger than {} bytes", path, kMaxKeyFileBytes));
    std::string pem(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < pem.size()) {
        ssize_t n = ::read(fd.get(), pem.data() + got, pem.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(ErrorKind::config, "cannot read key file '" + path + "': " + errno_text());
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    pem.resize(got);
    auto key = SigningKey::from_pkcs8_pem(pem, alg, path);
    if (!key) return fail(key.error());
    const auto written = std::chrono::seconds{st.st_mtim.tv_sec} + std::chrono::nanoseconds{st.st_mtim.tv_nsec};
    return PersistedKey{std::move(*key), TimePoint{std::chrono::duration_cast<Duration>(written)}};
}

Result<void> write_atomically(const std::string& path, const std::string& content) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string tmp = path + ".tmp.XXXXXX";
    int raw = ::mkstemp(tmp.data());  // mode 0600
    if (raw < 0) return fail(ErrorKind::config, "cannot create '" + tmp + "': " + errno_text());
    Fd fd(raw);
    auto abort = [&](const std::string& what) {
        std::string message = "cannot " + what + " '" + tmp + "': " + errno_text();
        ::unlink(tmp.c_str());
        return fail(ErrorKind::config, message);
    };
    if (::fchmod(fd.get(), 0600) != 0) return abort("chmod");
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return abort("write");
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return abort("fsync");
    if (::close(fd.release()) != 0) return abort("close");
    if (::rename(tmp.c_str(), path.c_str()) != 0) return abort("rename into place");
    Fd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirfd.get() >= 0) ::fsync(dirfd.get());
    return {};
}

}  // namespace

Result<PersistedKey> load_or_create_key_file(const std::string& path, policy::SigningAlgorithm alg) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) return load(path, fd, alg);
    if (errno != ENOENT) return fail(ErrorKind::config, "cannot open key file '" + path + "': " + errno_text());
    auto key = SigningKey::generate(alg);
    if (!key) return fail(key.error());
    if (auto r = write_atomically(path, key->pkcs8_pem()); !r) return fail(r.error());
    log::notice("issuer", "Created signing key file '{}' (kid {})", path, key->kid());
    return PersistedKey{std::move(*key), std::nullopt};
}

}  // namespace credgate::issuer
