// SPDX-License-Identifier: Apache-2.0
// A Resolver for identity tests that answers from tables the test fills in.
#pragma once

#include "identity/compile.hpp"

#include <map>
#include <string>

namespace credgate::identity::test {

class TableResolver final : public Resolver {
public:
    std::map<std::string, FileKey> files;
    std::map<std::string, std::string> hashes;
    std::map<std::string, uint32_t> users, groups;
    std::map<std::string, uint64_t> cgroups, units;

    template <typename M>
    static auto find(const M& m, const std::string& k, const char* what) -> Result<typename M::mapped_type> {
        auto it = m.find(k);
        if (it == m.end()) return fail(ErrorKind::not_found, std::string("no ") + what + " " + k);
        return it->second;
    }
    Result<FileKey> file(const std::string& p) override { return find(files, p, "file"); }
    Result<std::string> sha256_hex(const std::string& p) override { return find(hashes, p, "file"); }
    Result<uint32_t> user(const std::string& n) override { return find(users, n, "user"); }
    Result<uint32_t> group(const std::string& n) override { return find(groups, n, "group"); }
    Result<uint64_t> cgroup(const std::string& p) override { return find(cgroups, p, "cgroup"); }
    Result<UnitCgroup> unit_cgroup(const std::string& u) override {
        auto id = find(units, u, "unit");
        if (!id) return fail(id.error());
        return UnitCgroup{*id, "system.slice/" + u, {}};
    }
};

}  // namespace credgate::identity::test
