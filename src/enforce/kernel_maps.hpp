// SPDX-License-Identifier: Apache-2.0
// Typed reads and writes of credgate's pinned maps (credgate_abi.h): objects, state, owners, own ids.
// Private to src/enforce; the fds belong to the loaded or adopted skeleton (lifecycle.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "identity/compile.hpp"
#include "policy/model.hpp"

#include "credgate_abi.h"

namespace credgate::enforce::detail {

using identity::FileKey;

std::string errno_text(int err);
Result<FileKey> stat_key(const std::string& path);

struct KernelMaps {
    int objects = -1, rules = -1, binds = -1, state = -1, owners = -1, own_ids = -1, audit = -1;

    // Writes an object's entry; with `merge`, flags are added to an existing entry's (and a
    // non-credential write keeps its binding).
    Result<void> put_object(FileKey key, uint32_t binding, uint32_t flags, bool merge);
    Result<void> protect_path(const std::string& path, uint32_t flags);
    // Changes an existing entry only: an entry the kernel dropped (its inode was freed) must not come
    // back, its number may belong to another file by now. False when there is no entry; an entry
    // whose flags become 0 is deleted; `change` returns false to leave the entry as it is.
    Result<bool> update_existing(FileKey key, const std::function<bool(credgate_object&)>& change);
    std::vector<std::pair<FileKey, credgate_object>> all_objects();

    bool is_owner_exe(FileKey key);
    // Registers an executable whose root processes are credgated, and write-protects it.
    Result<void> add_owner(const std::string& exe);
    // Records the kernel id of one of our maps, programs or links (self-protection).
    Result<void> own(uint32_t kind, uint32_t id);

    Result<credgate_state> read_state();
    Result<void> store_state(const credgate_state& st);
    // A flip to `generation` (counted in `applied`) and/or a new mode, in one write.
    Result<void> write_state(std::optional<uint32_t> generation, std::optional<policy::EnforcementMode> mode);
    // A file system that holds credentials (the read fast path skips all others).
    Result<void> add_cred_dev(uint64_t dev);
    // The bpffs holding our pins: only credgated may unmount it (the pins are all that keeps the
    // links attached).
    Result<void> record_pin_dev(const std::string& pin_dir);
};

}  // namespace credgate::enforce::detail
