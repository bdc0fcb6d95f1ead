// SPDX-License-Identifier: Apache-2.0
// A Resolver that asks another once per question: one compilation of many identities (or of one
// identity key by key) stats, hashes and searches the cgroup tree once per value.
#pragma once

#include "identity/compile.hpp"

#include <map>
#include <string>

namespace credgate::identity {

// Answers (and failures) are kept for the resolver's lifetime: make one per compilation, so a
// program replaced or a unit started later is seen by the next.
class CachingResolver final : public Resolver {
public:
    explicit CachingResolver(Resolver& host) : host_(host) {}
    Result<FileKey> file(const std::string& path) override;
    Result<std::string> sha256_hex(const std::string& path) override;
    Result<uint32_t> user(const std::string& name) override;
    Result<uint32_t> group(const std::string& name) override;
    Result<uint64_t> cgroup(const std::string& path) override;
    Result<UnitCgroup> unit_cgroup(const std::string& unit) override;

private:
    Resolver& host_;
    std::map<std::string, Result<FileKey>> files_;
    std::map<std::string, Result<std::string>> hashes_;
    std::map<std::string, Result<uint32_t>> users_, groups_;
    std::map<std::string, Result<uint64_t>> cgroups_;
    std::map<std::string, Result<UnitCgroup>> units_;
};

}  // namespace credgate::identity
