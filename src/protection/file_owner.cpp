// SPDX-License-Identifier: Apache-2.0
// pinned_uid: the intersection of process:uid and process:user values per selector alternative,
// and one uid shared by every alternative.
#include "protection/file_owner.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

namespace credgate::protection {
namespace {

std::optional<uint32_t> parse_uid(const std::string& text) {
    uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

// The uids one alternative admits; nothing when it does not restrict the uid at all, or when a
// value cannot be resolved (then nobody can say which uid it means).
std::optional<std::set<uint32_t>> admitted_uids(const policy::SelectorAlternative& alternative,
                                                const UserLookup& user) {
    std::optional<std::set<uint32_t>> admitted;
    for (const auto& term : alternative.terms) {
        if (term.key != policy::SelectorKey::process_uid && term.key != policy::SelectorKey::process_user) continue;
        std::set<uint32_t> values;
        for (const auto& v : term.values) {
            auto uid = term.key == policy::SelectorKey::process_uid ? parse_uid(v) : user(v);
            if (!uid) return std::nullopt;
            values.insert(*uid);
        }
        if (!admitted) {
            admitted = std::move(values);
        } else {
            std::set<uint32_t> both;
            std::set_intersection(admitted->begin(), admitted->end(), values.begin(), values.end(),
                                  std::inserter(both, both.begin()));
            admitted = std::move(both);
        }
    }
    return admitted;
}

}  // namespace

std::optional<uint32_t> pinned_uid(const policy::WorkloadIdentity& identity, const UserLookup& user) {
    std::optional<uint32_t> pinned;
    for (const auto& alternative : identity.selectors) {
        auto admitted = admitted_uids(alternative, user);
        if (!admitted || admitted->size() != 1) return std::nullopt;
        const uint32_t uid = *admitted->begin();
        if (pinned && *pinned != uid) return std::nullopt;
        pinned = uid;
    }
    return pinned;
}

std::optional<uint32_t> system_user(const std::string& name) {
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
    passwd pw{};
    passwd* out = nullptr;
    if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &out) != 0 || !out) return std::nullopt;
    return out->pw_uid;
}

}  // namespace credgate::protection
