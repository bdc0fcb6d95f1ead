// SPDX-License-Identifier: Apache-2.0
// Protected objects: credential files, their directories and trusted programs written to, revoked
// from and dropped from credgate_objects, and the key the programs give an object.
#include <bpf/bpf.h>
#include <fmt/format.h>
#include <linux/magic.h>

#include <cerrno>
#include <set>

#include "enforce/enforcer_impl.hpp"

#include "credgate_abi.h"

namespace credgate::enforce {

using detail::errno_text;

Result<void> Enforcer::protect_file(FileKey file, uint32_t binding) {
    if (binding >= CREDGATE_MAX_BINDINGS)
        return fail(ErrorKind::invalid_argument, fmt::format("binding index {} exceeds {}", binding, CREDGATE_MAX_BINDINGS));
    // The file system first: the programs skip the lookup on file systems not in this list.
    if (auto r = impl_->maps.add_cred_dev(file.dev); !r) return r;
    return impl_->maps.put_object(file, binding, CREDGATE_OBJ_CREDENTIAL | CREDGATE_OBJ_NO_TAMPER, false);
}

Result<void> Enforcer::protect_directory(FileKey dir) {
    return impl_->maps.put_object(dir, 0, CREDGATE_OBJ_CONTAINER | CREDGATE_OBJ_NO_TAMPER, true);
}

Result<bool> Enforcer::revoke_access(FileKey file) {
    return impl_->maps.update_existing(file, [](credgate_object& v) {
        if (!(v.flags & CREDGATE_OBJ_CREDENTIAL) || v.binding == CREDGATE_BINDING_NONE) return false;
        v.binding = CREDGATE_BINDING_NONE;
        return true;
    });
}

std::vector<Enforcer::Object> Enforcer::objects() {
    std::vector<Object> out;
    for (const auto& [key, value] : impl_->maps.all_objects()) out.push_back({key, value.binding, value.flags});
    return out;
}

Result<void> Enforcer::release_directory(FileKey dir) {
    auto r = impl_->maps.update_existing(dir, [](credgate_object& v) {
        if (v.flags & (CREDGATE_OBJ_CREDENTIAL | CREDGATE_OBJ_TRUSTED_EXEC)) return false;
        v.flags = 0;
        return true;
    });
    if (!r) return fail(r.error());
    return {};
}

Result<void> Enforcer::forget(FileKey file) {
    credgate_object_key k{file.dev, file.ino};
    if (bpf_map_delete_elem(impl_->maps.objects, &k) != 0 && errno != ENOENT)
        return fail(ErrorKind::internal, fmt::format("cannot delete inode {}:{} from credgate_objects: {}", file.dev,
                                                     file.ino, errno_text(errno)));
    return {};
}

std::optional<Enforcer::Object> Enforcer::object(FileKey file) {
    credgate_object_key k{file.dev, file.ino};
    credgate_object v{};
    if (bpf_map_lookup_elem(impl_->maps.objects, &k, &v) != 0) return std::nullopt;
    return Object{file, v.binding, v.flags};
}

bool Enforcer::Object::credential() const noexcept { return (flags & CREDGATE_OBJ_CREDENTIAL) != 0; }

static_assert(CREDGATE_SYSFS_MAGIC == SYSFS_MAGIC);

FileKey object_key(uint64_t st_dev, uint64_t ino, uint64_t fs_magic) noexcept {
    if (fs_magic == CREDGATE_SYSFS_MAGIC) return FileKey{CREDGATE_DEV_SYSFS, ino};
    return FileKey{identity::kernel_dev(st_dev), ino};
}

bool Enforcer::is_protected(FileKey file) {
    credgate_object_key k{file.dev, file.ino};
    credgate_object v{};
    return bpf_map_lookup_elem(impl_->maps.objects, &k, &v) == 0;
}

Result<size_t> Enforcer::revoke_slots(const std::vector<uint32_t>& slots) {
    const std::set<uint32_t> wanted(slots.begin(), slots.end());
    size_t revoked = 0;
    for (const auto& [key, value] : impl_->maps.all_objects()) {
        if (!(value.flags & CREDGATE_OBJ_CREDENTIAL) || !wanted.contains(value.binding)) continue;
        auto r = revoke_access(key);
        if (!r) return fail(r.error());
        if (*r) ++revoked;
    }
    return revoked;
}

Result<void> Enforcer::register_trusted_exec(FileKey file) {
    return impl_->maps.put_object(file, 0, CREDGATE_OBJ_NO_WRITE | CREDGATE_OBJ_TRUSTED_EXEC, true);
}

}  // namespace credgate::enforce
