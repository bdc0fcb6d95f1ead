// SPDX-License-Identifier: Apache-2.0
// Which uid an identity pins for its credential file's owner: one uid in every selector
// alternative, by number or by name, or none.
#include "protection/file_owner.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::protection;

TEST_CASE("an identity pins a uid only when every alternative admits that one uid") {
    const UserLookup users = [](const std::string& name) -> std::optional<uint32_t> {
        if (name == "agent") return 1000;
        if (name == "other") return 1001;
        return std::nullopt;
    };
    auto identity = [](std::vector<std::vector<std::pair<policy::SelectorKey, std::vector<std::string>>>> alts) {
        policy::WorkloadIdentity id;
        for (auto& alt : alts) {
            policy::SelectorAlternative a;
            for (auto& [k, v] : alt) a.terms.push_back(policy::SelectorTerm{k, v, {}});
            id.selectors.push_back(a);
        }
        return id;
    };
    using K = policy::SelectorKey;
    CHECK(pinned_uid(identity({{{K::process_uid, {"1000"}}}}), users) == 1000u);
    CHECK(pinned_uid(identity({{{K::process_user, {"agent"}}, {K::process_path, {"/usr/bin/agent"}}}}), users) ==
          1000u);
    // Every alternative must pin the same uid, by number or by name.
    CHECK(pinned_uid(identity({{{K::process_uid, {"1000"}}}, {{K::process_user, {"agent"}}}}), users) == 1000u);
    CHECK_FALSE(pinned_uid(identity({{{K::process_uid, {"1000"}}}, {{K::process_user, {"other"}}}}), users));
    // An alternative that says nothing of the uid admits any uid.
    CHECK_FALSE(pinned_uid(identity({{{K::process_uid, {"1000"}}}, {{K::systemd_unit, {"agent.service"}}}}), users));
    CHECK_FALSE(pinned_uid(identity({{{K::process_path, {"/usr/bin/agent"}}}}), users));
    // Several values are several uids, unless another key narrows them to one.
    CHECK_FALSE(pinned_uid(identity({{{K::process_uid, {"1000", "1001"}}}}), users));
    CHECK(pinned_uid(identity({{{K::process_uid, {"1000", "1001"}}, {K::process_user, {"agent"}}}}), users) == 1000u);
    // A user that does not resolve leaves the uid unknown.
    CHECK_FALSE(pinned_uid(identity({{{K::process_user, {"ghost"}}}}), users));
    CHECK_FALSE(pinned_uid(identity({}), users));
    // uid 0 is a uid like any other.
    CHECK(pinned_uid(identity({{{K::process_uid, {"0"}}}}), users) == 0u);
}
