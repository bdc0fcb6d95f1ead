// SPDX-License-Identifier: Apache-2.0
// The resolver that reads the host (stat, passwd, cgroup2) for selector compilation.
#pragma once

#include "identity/compile.hpp"

#include <string>

namespace credgate::identity {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
// How deep below the cgroup2 root units and slices are looked for.
inline constexpr int kMaxUnitSearchDepth = 8;

// The cgroup directory name of a systemd:unit value: a name without a suffix is a .service.
std::string unit_cgroup_name(const std::string& unit);

class SystemResolver final : public Resolver {
public:
    explicit SystemResolver(std::string cgroup_root = kCgroupRoot) : cgroup_root_(std::move(cgroup_root)) {}
    Result<FileKey> file(const std::string& path) override;
    Result<std::string> sha256_hex(const std::string& path) override;
    Result<uint32_t> user(const std::string& name) override;
    Result<uint32_t> group(const std::string& name) override;
    Result<uint64_t> cgroup(const std::string& path) override;
    // A unit is the system manager's when its cgroup is <slice>/.../<unit> from the root: every
    // directory before it a *.slice, every directory on the path owned by root, and none above it
    // writable by group or others. A user's delegated subtree (user@N.service, chowned to the user)
    // never qualifies, so a same-named cgroup there cannot stand in for the unit while it is not
    // running. system.slice/<unit> is preferred when root made more than one.
    Result<UnitCgroup> unit_cgroup(const std::string& unit) override;

private:
    std::string cgroup_root_;
};

}  // namespace credgate::identity
