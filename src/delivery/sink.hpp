// SPDX-License-Identifier: Apache-2.0
// The delivery contract (DESIGN §4): publish one credential file atomically, remove a binding's
// files, and let enforcement register each new file's inode before it has any content.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace credgate::delivery {

// Where a credential lives: <root>/<workload uuid>/crb-<binding>/<file>.
struct Target {
    std::string workload_uuid;  // UUIDv5 of the SPIFFE ID, lowercase canonical form
    std::string binding;        // CredentialBinding name
    std::string file_name;      // e.g. "vault.json"
};

// The identity the kernel programs key on (DESIGN §3).
struct FileId {
    uint64_t device = 0;    // st_dev
    uint64_t inode = 0;     // st_ino
    uint64_t fs_magic = 0;  // statfs f_type of its file system; 0 when not asked
    friend bool operator==(const FileId&, const FileId&) = default;
};

struct Published {
    std::string path;
    FileId id;
    uint32_t uid = 0;   // the file's owner
    uint32_t mode = 0;  // its permission bits
};

// Classic permissions, the layer under the kernel programs (DESIGN §4). With a uid the file
// belongs to that uid with mode 0400; without one it belongs to root with mode 0644, and only the
// kernel programs decide who reads it. Directories stay root's, 0755, so the path works for both.
struct Ownership {
    std::optional<uint32_t> uid;
};

struct Hooks {
    // Called with the new file's (device, inode) while it is still empty and not yet at its final
    // name. A failure aborts the publish: nothing is written, the old file (if any) stays.
    std::function<Result<void>(const Target&, FileId)> before_content;
    // Called after a file stopped being published (replaced or removed): enforcement keeps it
    // protected until the kernel frees it, and closes it to everyone once its binding is gone.
    std::function<void(const Target&, FileId)> after_retire;
};

class Sink {
public:
    virtual ~Sink() = default;
    // Replaces the file's content atomically: a reader sees the old or the new bytes, never a mix.
    // The owner and mode are set while the new file is still empty.
    virtual Result<Published> publish(const Target& target, std::string_view bytes, const Ownership& owner) = 0;
    // Removes every file of the binding, then the binding directory, then the workload directory
    // if it is empty. Removing what does not exist succeeds.
    virtual Result<void> remove(const std::string& workload_uuid, const std::string& binding) = 0;
    // The path a target is (or would be) published at.
    virtual std::string path_of(const Target& target) const = 0;
};

// The directory of a binding: "crb-" + the binding name, as in the seed scenario's status output.
inline constexpr std::string_view kBindingDirPrefix = "crb-";

// Checks the three path components so no name can escape the root or collide with temp files.
Result<void> validate_target(const Target& target);
Result<void> validate_uuid(std::string_view uuid);
Result<void> validate_binding_name(std::string_view binding);
Result<void> validate_file_name(std::string_view name);

}  // namespace credgate::delivery
