// SPDX-License-Identifier: Apache-2.0
// Typed reads and writes of credgate's pinned maps; libbpf errors become Results here. The C++ view
// of the ABI is checked against the BPF side below.
#include "enforce/kernel_maps.hpp"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace credgate::enforce::detail {

// The C++ view of the ABI must match the BPF side byte for byte.
static_assert(sizeof(credgate_object_key) == 16);
static_assert(sizeof(credgate_object) == 8);
static_assert(sizeof(credgate_rule_key) == 24 && offsetof(credgate_rule_key, v) == 8);
static_assert(sizeof(credgate_binding) == 8 + 4 * CREDGATE_MAX_ALTERNATIVES + 8);
static_assert(sizeof(credgate_state) == 32 + 8 * CREDGATE_MAX_CRED_DEVS + 8 && offsetof(credgate_state, n_bindings) == 24);
static_assert(CREDGATE_BINDING_NONE >= CREDGATE_MAX_BINDINGS);
static_assert(CREDGATE_RULE_EXEC_INDEX >= CREDGATE_MAX_BINDINGS && CREDGATE_RULE_EXEC_INDEX <= 0xffffu);
static_assert(sizeof(credgate_own_key) == 8);
static_assert(sizeof(credgate_task) == 40);
static_assert(sizeof(credgate_audit_event) == 6 * 8 + 8 * 4 + CREDGATE_COMM_LEN);

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

Result<FileKey> stat_key(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        return fail(ErrorKind::not_found, fmt::format("cannot stat '{}': {}", path, errno_text(errno)));
    return FileKey{identity::kernel_dev(st.st_dev), st.st_ino};
}

Result<void> KernelMaps::put_object(FileKey key, uint32_t binding, uint32_t flags, bool merge) {
    credgate_object_key k{key.dev, key.ino};
    credgate_object v{binding, flags};
    credgate_object old{};
    if (merge && bpf_map_lookup_elem(objects, &k, &old) == 0) {
        v.flags |= old.flags;
        if (!(flags & CREDGATE_OBJ_CREDENTIAL)) v.binding = old.binding;
    }
    if (bpf_map_update_elem(objects, &k, &v, BPF_ANY) != 0)
        return fail(ErrorKind::internal, fmt::format("cannot update credgate_objects for inode {}:{}: {}", key.dev,
                                                     key.ino, errno_text(errno)));
    return {};
}

Result<void> KernelMaps::protect_path(const std::string& path, uint32_t flags) {
    auto key = stat_key(path);
    if (!key) return fail(key.error());
    return put_object(*key, 0, flags, true);
}

Result<bool> KernelMaps::update_existing(FileKey key, const std::function<bool(credgate_object&)>& change) {
    credgate_object_key k{key.dev, key.ino};
    credgate_object v{};
    if (bpf_map_lookup_elem(objects, &k, &v) != 0) return false;
    if (!change(v)) return true;
    const int rc = v.flags == 0 ? bpf_map_delete_elem(objects, &k) : bpf_map_update_elem(objects, &k, &v, BPF_EXIST);
    if (rc != 0) {
        if (errno == ENOENT) return false;
        return fail(ErrorKind::internal,
                    fmt::format("cannot update credgate_objects for inode {}:{}: {}", key.dev, key.ino, errno_text(errno)));
    }
    return true;
}

std::vector<std::pair<FileKey, credgate_object>> KernelMaps::all_objects() {
    std::vector<std::pair<FileKey, credgate_object>> out;
    credgate_object_key key{}, next_key{};
    const void* cursor = nullptr;
    while (bpf_map_get_next_key(objects, cursor, &next_key) == 0) {
        credgate_object v{};
        if (bpf_map_lookup_elem(objects, &next_key, &v) == 0) out.push_back({FileKey{next_key.dev, next_key.ino}, v});
        key = next_key;
        cursor = &key;
    }
    return out;
}

bool KernelMaps::is_owner_exe(FileKey key) {
    credgate_object_key k{key.dev, key.ino};
    uint8_t v = 0;
    return bpf_map_lookup_elem(owners, &k, &v) == 0;
}

Result<void> KernelMaps::add_owner(const std::string& exe) {
    auto key = stat_key(exe);
    if (!key) return fail(key.error());
    credgate_object_key k{key->dev, key->ino};
    uint8_t one = 1;
    if (bpf_map_update_elem(owners, &k, &one, BPF_ANY) != 0)
        return fail(ErrorKind::internal, fmt::format("cannot update credgate_owners: {}", errno_text(errno)));
    // Root must not be able to rewrite credgated in place either.
    return put_object(*key, 0, CREDGATE_OBJ_NO_WRITE, true);
}

Result<void> KernelMaps::own(uint32_t kind, uint32_t id) {
    credgate_own_key k{kind, id};
    uint8_t one = 1;
    if (bpf_map_update_elem(own_ids, &k, &one, BPF_ANY) != 0)
        return fail(ErrorKind::internal, fmt::format("cannot record own BPF object id {}: {}", id, errno_text(errno)));
    return {};
}

Result<credgate_state> KernelMaps::read_state() {
    uint32_t zero = 0;
    credgate_state st{};
    if (bpf_map_lookup_elem(state, &zero, &st) != 0)
        return fail(ErrorKind::internal, fmt::format("cannot read credgate_state: {}", errno_text(errno)));
    return st;
}

Result<void> KernelMaps::store_state(const credgate_state& st) {
    uint32_t zero = 0;
    if (bpf_map_update_elem(state, &zero, &st, BPF_ANY) != 0)
        return fail(ErrorKind::internal, fmt::format("cannot write credgate_state: {}", errno_text(errno)));
    return {};
}

Result<void> KernelMaps::write_state(std::optional<uint32_t> generation, std::optional<policy::EnforcementMode> mode) {
    auto read = read_state();
    if (!read) return fail(read.error());
    credgate_state st = *read;
    if (generation) {
        st.generation = *generation;
        st.applied++;
    }
    if (mode) st.mode = *mode == policy::EnforcementMode::audit ? CREDGATE_MODE_AUDIT : CREDGATE_MODE_ENFORCE;
    return store_state(st);
}

Result<void> KernelMaps::add_cred_dev(uint64_t dev) {
    auto st = read_state();
    if (!st) return fail(st.error());
    const uint32_t n = st->n_cred_devs;
    if (n > CREDGATE_MAX_CRED_DEVS) return {};
    for (uint32_t i = 0; i < n; ++i)
        if (st->cred_devs[i] == dev) return {};
    if (n < CREDGATE_MAX_CRED_DEVS) st->cred_devs[n] = dev;
    // Past the limit every inode is looked up: slower, never wrong.
    st->n_cred_devs = n + 1;
    return store_state(*st);
}

Result<void> KernelMaps::record_pin_dev(const std::string& pin_dir) {
    auto key = stat_key(pin_dir);
    if (!key) return fail(key.error());
    auto st = read_state();
    if (!st) return fail(st.error());
    if (st->pin_dev == key->dev) return {};
    st->pin_dev = key->dev;
    return store_state(*st);
}

}  // namespace credgate::enforce::detail
