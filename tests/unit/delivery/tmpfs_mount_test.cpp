// SPDX-License-Identifier: Apache-2.0
// The file sink mounts a private tmpfs with nosuid,nodev,noexec, mode 0711 and a size limit.
// Needs root with CAP_SYS_ADMIN; exits 77 (skip) otherwise, or 1 under CREDGATE_REQUIRE_ALL_TESTS=1.
#include "delivery/file_sink.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace credgate::delivery;

namespace {

int skip(const std::string& why) {
    const char* require = std::getenv("CREDGATE_REQUIRE_ALL_TESTS");
    std::fprintf(stderr, "SKIP: %s\n", why.c_str());
    return require && std::string(require) == "1" ? 1 : 77;
}

int failed(const std::string& what) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main() {
    if (::geteuid() != 0) return skip("mounting tmpfs needs root");
    char tmpl[] = "/tmp/credgate-tmpfs-XXXXXX";
    if (!::mkdtemp(tmpl)) return failed("mkdtemp");
    const std::string root = std::string(tmpl) + "/credentials";
    int rc = 0;
    {
        FileSinkOptions o;
        o.root = root;
        o.mount = true;
        o.mount_size_bytes = 1024 * 1024;
        auto sink = FileSink::create(o);
        if (!sink) {
            std::filesystem::remove_all(tmpl);
            if (sink.error().kind == credgate::ErrorKind::permission)
                return skip("mount refused (no CAP_SYS_ADMIN in this container?): " + sink.error().message);
            return failed(sink.error().message);
        }
        struct statfs fs {};
        struct statvfs vfs {};
        struct stat st {};
        if (::statfs(root.c_str(), &fs) != 0 || fs.f_type != TMPFS_MAGIC) rc = failed("root is not a tmpfs");
        if (::statvfs(root.c_str(), &vfs) != 0) rc = failed("statvfs");
        if (!(vfs.f_flag & ST_NOSUID) || !(vfs.f_flag & ST_NODEV) || !(vfs.f_flag & ST_NOEXEC))
            rc = failed("mount lacks nosuid, nodev or noexec");
        if (vfs.f_blocks * vfs.f_frsize > 1024 * 1024) rc = failed("size limit not applied");
        if (::stat(root.c_str(), &st) != 0 || (st.st_mode & 07777) != 0711) rc = failed("root mode is not 0711");
        if (!(*sink)->mounted()) rc = failed("mounted() is false");
        auto p = (*sink)->publish(Target{"2e08019a-a435-55e3-9ba7-f01c09b9fc2b", "b", "vault.json"}, "{}");
        if (!p) rc = failed(p.error().message);
        // A second sink adopts the existing mount instead of stacking another one.
        auto again = FileSink::create(o);
        if (!again) rc = failed("re-create on an existing mount: " + again.error().message);
        else if (!std::filesystem::exists(root + "/2e08019a-a435-55e3-9ba7-f01c09b9fc2b/crb-b/vault.json"))
            rc = failed("adopting the mount lost its files");
    }
    ::umount2(root.c_str(), MNT_DETACH);
    std::filesystem::remove_all(tmpl);
    if (rc == 0) std::fprintf(stderr, "tmpfs mount: ok\n");
    return rc;
}
