// SPDX-License-Identifier: Apache-2.0
// Compilation of a WorkloadIdentity's selectors into kernel rules: per alternative, one set of
// accepted values per fact (executed file, fsuid, fsgid, cgroup, comm), all of which must match.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

#include "credgate_abi.h"  // bpf/include: fact numbers and the comm length

namespace credgate::identity {

// A file as the kernel names it: device in the kernel's encoding (MAJOR << 20 | MINOR) and inode.
struct FileKey {
    uint64_t dev = 0;
    uint64_t ino = 0;
    friend bool operator==(const FileKey&, const FileKey&) = default;
    friend auto operator<=>(const FileKey&, const FileKey&) = default;
};

// userspace st_dev (glibc's encoding) -> the kernel's s_dev encoding.
uint64_t kernel_dev(uint64_t st_dev) noexcept;

// Facts, numbered as enum credgate_fact in the ABI header.
enum class Fact : uint32_t {
    exe = CREDGATE_FACT_EXE,
    uid = CREDGATE_FACT_UID,
    gid = CREDGATE_FACT_GID,
    cgroup = CREDGATE_FACT_CGROUP,
    comm = CREDGATE_FACT_COMM,
};

inline constexpr uint32_t fact_bit(Fact f) noexcept { return 1u << static_cast<uint32_t>(f); }
inline constexpr size_t kCommLength = CREDGATE_COMM_LEN;  // TASK_COMM_LEN, NUL included

using Comm = std::array<char, kCommLength>;

// A name as the kernel keeps it in `comm`: its first kCommLength - 1 bytes, NUL padded.
Comm to_comm(const std::string& name);

// Every fact whose bit is in fact_mask must be a member of its set; an empty set matches nobody.
struct CompiledAlternative {
    uint32_t fact_mask = 0;
    std::vector<FileKey> exes;
    std::vector<uint32_t> uids;
    std::vector<uint32_t> gids;
    std::vector<uint64_t> cgroups;  // the task's cgroup or any ancestor
    std::vector<Comm> comms;
};

struct CompiledIdentity {
    std::string workload_id;
    std::vector<CompiledAlternative> alternatives;  // OR
    std::vector<FileKey> trusted_execs;             // files named by process:path / process:sha256
    std::vector<std::string> warnings;              // values that resolved to nothing, weak keys
};

// Rules for every binding; the kernel's binding index is the position in `bindings`.
struct CompiledRules {
    struct Binding {
        std::string name;        // CredentialBinding name, for audit lines
        std::string spiffe_id;   // may be empty
        CompiledIdentity identity;
    };
    std::vector<Binding> bindings;
};

// The cgroup a systemd:unit selector resolved to, and the same-named cgroups passed over on the way
// (each "'<path>': <why>"), for a warning.
struct UnitCgroup {
    uint64_t id = 0;
    std::string path;  // relative to the cgroup2 root, e.g. "system.slice/agent.service"
    std::vector<std::string> passed_over;
};

// The host facts the compiler needs. SystemResolver (identity/host_resolver.hpp) reads the real
// system; tests may substitute.
class Resolver {
public:
    virtual ~Resolver() = default;
    virtual Result<FileKey> file(const std::string& path) = 0;      // follows symlinks
    virtual Result<std::string> sha256_hex(const std::string& path) = 0;
    virtual Result<uint32_t> user(const std::string& name) = 0;
    virtual Result<uint32_t> group(const std::string& name) = 0;
    virtual Result<uint64_t> cgroup(const std::string& path) = 0;   // path under the cgroup2 root
    // Only the system manager's own unit; an error (naming what was passed over) when none runs.
    virtual Result<UnitCgroup> unit_cgroup(const std::string& unit) = 0;
};

// The files process:sha256 values are looked up among: every program the identities name by
// process:path (any identity may name its program by content alone), sorted, each once.
std::vector<std::string> program_paths(const std::vector<policy::WorkloadIdentity>& identities);

// `sha256_candidates`: executables hashed to resolve process:sha256 (besides this identity's
// process:path files). A value that resolves to nothing is a warning and leaves its set smaller:
// fail closed. Errors: a weak-only alternative without allow_weak_selectors, an empty alternative,
// malformed numbers, systemd:unit AND cgroup:path in one alternative, too many alternatives.
Result<CompiledIdentity> compile_identity(const policy::WorkloadIdentity& identity, Resolver& resolver,
                                          const std::vector<std::string>& sha256_candidates = {});

}  // namespace credgate::identity
