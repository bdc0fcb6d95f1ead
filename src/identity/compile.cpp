// SPDX-License-Identifier: Apache-2.0
// Selector compilation to kernel rules: per alternative, the intersection of each fact's values.
#include "identity/compile.hpp"

#include "policy/values.hpp"

#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

namespace credgate::identity {

namespace {

Result<uint32_t> parse_id(const std::string& value, std::string_view key) {
    uint32_t id = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty())
        return fail(ErrorKind::invalid_argument, fmt::format("{}: '{}' is not a numeric id", key, value));
    return id;
}

// AND of two constraints on one fact: a value must be in both sets.
template <typename T>
std::vector<T> intersect(std::optional<std::vector<T>>& current, std::vector<T> next) {
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    if (!current) return next;
    std::vector<T> out;
    std::set_intersection(current->begin(), current->end(), next.begin(), next.end(), std::back_inserter(out));
    return out;
}

// The ids a process:uid or process:gid term names (`numeric`), or those its process:user or
// process:group names resolve to through `lookup`: a name that resolves to nothing is a warning.
template <typename Lookup, typename Warn>
Result<std::vector<uint32_t>> account_ids(const policy::SelectorTerm& term, bool numeric, std::string_view key,
                                          Lookup lookup, Warn warn) {
    std::vector<uint32_t> ids;
    for (const auto& v : term.values) {
        if (numeric) {
            auto id = parse_id(v, key);
            if (!id) return fail(id.error());
            ids.push_back(*id);
        } else if (auto id = lookup(v)) {
            ids.push_back(*id);
        } else {
            warn(fmt::format("{} '{}' matches nothing: {}", key, v, id.error().message));
        }
    }
    return ids;
}

}  // namespace

Comm to_comm(const std::string& name) {
    Comm c{};
    // The kernel keeps TASK_COMM_LEN - 1 bytes of the name.
    std::copy_n(name.begin(), std::min(name.size(), kCommLength - 1), c.begin());
    return c;
}

std::vector<std::string> program_paths(const std::vector<policy::WorkloadIdentity>& identities) {
    std::vector<std::string> paths;
    for (const auto& identity : identities)
        for (const auto& alternative : identity.selectors)
            for (const auto& term : alternative.terms)
                if (term.key == policy::SelectorKey::process_path)
                    paths.insert(paths.end(), term.values.begin(), term.values.end());
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    return paths;
}

uint64_t kernel_dev(uint64_t st_dev) noexcept {
    return (static_cast<uint64_t>(major(st_dev)) << 20) | static_cast<uint64_t>(minor(st_dev));
}

Result<CompiledIdentity> compile_identity(const policy::WorkloadIdentity& identity, Resolver& resolver,
                                          const std::vector<std::string>& sha256_candidates) {
    CompiledIdentity out;
    out.workload_id = identity.workload_id;
    if (identity.selectors.size() > policy::kMaxSelectorAlternatives)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("{}: {} selector alternatives, at most {} are supported", identity.meta.name,
                                identity.selectors.size(), policy::kMaxSelectorAlternatives));
    std::set<FileKey> trusted;
    auto warn = [&](std::string message) { out.warnings.push_back(fmt::format("{}: {}", identity.meta.name, message)); };

    for (size_t a = 0; a < identity.selectors.size(); ++a) {
        const auto& alternative = identity.selectors[a];
        if (alternative.terms.empty())
            return fail(ErrorKind::invalid_argument,
                        fmt::format("{}: selector alternative {} has no keys", identity.meta.name, a + 1));
        std::optional<std::vector<FileKey>> exes;
        std::optional<std::vector<uint32_t>> uids, gids;
        std::optional<std::vector<uint64_t>> cgroups;
        std::optional<std::vector<Comm>> comms;
        bool strong = false, unit = false, cgroup_path = false;
        std::vector<std::string> alt_paths;

        for (const auto& term : alternative.terms) {
            const std::string_view key = policy::to_string(term.key);
            switch (term.key) {
                case policy::SelectorKey::process_path: {
                    std::vector<FileKey> keys;
                    for (const auto& v : term.values) {
                        alt_paths.push_back(v);
                        if (auto k = resolver.file(v)) keys.push_back(*k);
                        else warn(fmt::format("{} '{}' matches nothing: {}", key, v, k.error().message));
                    }
                    exes = intersect(exes, std::move(keys));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_sha256: {
                    std::vector<FileKey> keys;
                    std::vector<std::string> candidates = sha256_candidates;
                    for (const auto& alt : identity.selectors)
                        for (const auto& t : alt.terms)
                            if (t.key == policy::SelectorKey::process_path)
                                candidates.insert(candidates.end(), t.values.begin(), t.values.end());
                    for (const auto& v : term.values) {
                        std::string want = v;
                        std::transform(want.begin(), want.end(), want.begin(), ::tolower);
                        if (want.starts_with("sha256:")) want.erase(0, 7);
                        bool found = false;
                        for (const auto& c : candidates) {
                            auto hash = resolver.sha256_hex(c);
                            if (!hash || *hash != want) continue;
                            if (auto k = resolver.file(c)) { keys.push_back(*k); found = true; }
                        }
                        if (!found) warn(fmt::format("{} '{}' matches no known executable", key, v));
                    }
                    exes = intersect(exes, std::move(keys));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_uid:
                case policy::SelectorKey::process_user: {
                    auto ids = account_ids(term, term.key == policy::SelectorKey::process_uid, key,
                                           [&](const std::string& v) { return resolver.user(v); }, warn);
                    if (!ids) return fail(ids.error());
                    uids = intersect(uids, std::move(*ids));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_gid:
                case policy::SelectorKey::process_group: {
                    auto ids = account_ids(term, term.key == policy::SelectorKey::process_gid, key,
                                           [&](const std::string& v) { return resolver.group(v); }, warn);
                    if (!ids) return fail(ids.error());
                    gids = intersect(gids, std::move(*ids));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::systemd_unit:
                case policy::SelectorKey::cgroup_path: {
                    std::vector<uint64_t> ids;
                    const bool is_unit = term.key == policy::SelectorKey::systemd_unit;
                    for (const auto& v : term.values) {
                        if (!is_unit) {
                            if (auto id = resolver.cgroup(v)) ids.push_back(*id);
                            else warn(fmt::format("{} '{}' matches nothing now: {}", key, v, id.error().message));
                            continue;
                        }
                        auto found = resolver.unit_cgroup(v);
                        if (!found) {
                            warn(fmt::format("{} '{}' matches nothing now: {}", key, v, found.error().message));
                            continue;
                        }
                        ids.push_back(found->id);
                        for (const auto& skipped : found->passed_over)
                            warn(fmt::format("{} '{}' resolves to '{}'; passed over {}", key, v, found->path, skipped));
                    }
                    (is_unit ? unit : cgroup_path) = true;
                    if (unit && cgroup_path)
                        return fail(ErrorKind::invalid_argument,
                                    fmt::format("{}: systemd:unit and cgroup:path in one alternative are not "
                                                "supported; use one of them", identity.meta.name));
                    cgroups = intersect(cgroups, std::move(ids));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_name: {
                    std::vector<Comm> names;
                    for (const auto& v : term.values) {
                        if (v.size() >= kCommLength)
                            warn(fmt::format("{} '{}' is longer than the kernel keeps; matching its first {} bytes",
                                             key, v, kCommLength - 1));
                        names.push_back(to_comm(v));
                    }
                    comms = intersect(comms, std::move(names));
                    break;
                }
            }
        }
        if (!strong) {
            if (!identity.allow_weak_selectors)
                return fail(ErrorKind::invalid_argument,
                            fmt::format("{}: selector alternative {} uses only process:name, which any process can "
                                        "set; AND it with a strong key or set allowWeakSelectors",
                                        identity.meta.name, a + 1));
            warn(fmt::format("selector alternative {} uses only process:name: any process can claim it", a + 1));
        }

        CompiledAlternative alt;
        if (exes) { alt.fact_mask |= fact_bit(Fact::exe); alt.exes = *exes; trusted.insert(exes->begin(), exes->end()); }
        if (uids) { alt.fact_mask |= fact_bit(Fact::uid); alt.uids = *uids; }
        if (gids) { alt.fact_mask |= fact_bit(Fact::gid); alt.gids = *gids; }
        if (cgroups) { alt.fact_mask |= fact_bit(Fact::cgroup); alt.cgroups = *cgroups; }
        if (comms) { alt.fact_mask |= fact_bit(Fact::comm); alt.comms = *comms; }
        out.alternatives.push_back(std::move(alt));
    }
    out.trusted_execs.assign(trusted.begin(), trusted.end());
    return out;
}

}  // namespace credgate::identity
