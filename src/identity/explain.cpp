// SPDX-License-Identifier: Apache-2.0
// IdentityMatcher: an identity's compiled rules evaluated against process facts, key by key.
#include "identity/explain.hpp"

#include "policy/values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace credgate::identity {
namespace {

template <typename T>
bool contains(const std::vector<T>& set, const T& value) {
    return std::find(set.begin(), set.end(), value) != set.end();
}

std::string comm_text(const Comm& comm) {
    return std::string(comm.data(), std::find(comm.begin(), comm.end(), '\0'));
}

// How a compiled set reads, for the key it came from.
std::vector<std::string> resolved_text(const CompiledAlternative& alone, Fact fact,
                                       const std::vector<std::pair<FileKey, std::string>>& programs,
                                       const std::map<uint64_t, std::string>& cgroup_paths) {
    std::vector<std::string> out;
    switch (fact) {
        case Fact::exe:
            for (const auto& key : alone.exes) {
                auto it = std::find_if(programs.begin(), programs.end(), [&](const auto& p) { return p.first == key; });
                out.push_back(it == programs.end() ? file_key_text(key)
                                                   : fmt::format("{} ({})", it->second, file_key_text(key)));
            }
            break;
        case Fact::uid:
            for (auto id : alone.uids) out.push_back(fmt::format("uid {}", id));
            break;
        case Fact::gid:
            for (auto id : alone.gids) out.push_back(fmt::format("gid {}", id));
            break;
        case Fact::cgroup:
            for (auto id : alone.cgroups) {
                auto it = cgroup_paths.find(id);
                out.push_back(it == cgroup_paths.end() ? fmt::format("cgroup {}", id)
                                                       : fmt::format("{} (cgroup {})", it->second, id));
            }
            break;
        case Fact::comm:
            for (const auto& c : alone.comms) out.push_back(comm_text(c));
            break;
    }
    return out;
}

std::string has_text(Fact fact, const ProcessFacts& f, const std::vector<std::pair<FileKey, std::string>>& programs) {
    switch (fact) {
        case Fact::exe: {
            if (f.exe_source == ExeSource::none)
                return "no record of its exec (it started before credgate's programs were loaded; process:path "
                       "matches from its next exec)";
            if (!f.exe) return "no executable (a kernel thread)";
            std::string name;
            if (auto it = std::find_if(programs.begin(), programs.end(), [&](const auto& p) { return p.first == *f.exe; });
                it != programs.end())
                name = it->second;
            if (f.exe_source == ExeSource::kernel)
                return fmt::format("{} ({}), recorded by the kernel at its exec{}", name.empty() ? "a file" : name,
                                   file_key_text(*f.exe),
                                   name.empty() && !f.exe_path.empty() ? fmt::format("; it runs {}", f.exe_path) : "");
            // From /proc (no kernel to ask): for a script, its interpreter; the explain document says so once.
            return fmt::format("{} ({})", f.exe_path, file_key_text(*f.exe));
        }
        case Fact::uid:
            return f.real_uid == f.uid ? fmt::format("uid {}", f.uid)
                                       : fmt::format("uid {} (file-system uid; real uid {})", f.uid, f.real_uid);
        case Fact::gid:
            return fmt::format("gid {}", f.gid);
        case Fact::cgroup:
            if (f.cgroup.empty()) return "no cgroup v2 membership";
            return fmt::format("{} (cgroup {})", f.cgroup, f.cgroup_ids.empty() ? 0 : f.cgroup_ids.back());
        case Fact::comm:
            return f.comm;
    }
    return "";
}

}  // namespace

Fact fact_of(policy::SelectorKey key) noexcept {
    switch (key) {
        case policy::SelectorKey::process_path:
        case policy::SelectorKey::process_sha256: return Fact::exe;
        case policy::SelectorKey::process_uid:
        case policy::SelectorKey::process_user: return Fact::uid;
        case policy::SelectorKey::process_gid:
        case policy::SelectorKey::process_group: return Fact::gid;
        case policy::SelectorKey::systemd_unit:
        case policy::SelectorKey::cgroup_path: return Fact::cgroup;
        case policy::SelectorKey::process_name: return Fact::comm;
    }
    return Fact::exe;
}

std::string file_key_text(const FileKey& key) { return fmt::format("{} #{}", device_text(key.dev), key.ino); }

bool fact_matches(Fact fact, const CompiledAlternative& a, const ProcessFacts& f) {
    switch (fact) {
        case Fact::exe:
            // The kernel has no file to compare for a task without an exec record (exe_ino 0).
            return f.exe_source != ExeSource::none && f.exe && f.exe->ino != 0 && contains(a.exes, *f.exe);
        case Fact::uid: return contains(a.uids, f.uid);
        case Fact::gid: return contains(a.gids, f.gid);
        case Fact::cgroup: {
            const size_t levels = std::min<size_t>(f.cgroup_ids.size(), CREDGATE_MAX_CGROUP_DEPTH);
            for (size_t level = 0; level < levels; ++level)
                if (contains(a.cgroups, f.cgroup_ids[level])) return true;
            return false;
        }
        case Fact::comm: return contains(a.comms, to_comm(f.comm));
    }
    return false;
}

bool alternative_matches(const CompiledAlternative& a, const ProcessFacts& f) {
    if (a.fact_mask == 0) return false;
    for (Fact fact : {Fact::exe, Fact::uid, Fact::gid, Fact::comm, Fact::cgroup})
        if ((a.fact_mask & fact_bit(fact)) && !fact_matches(fact, a, f)) return false;
    return true;
}

IdentityMatcher IdentityMatcher::compile(const policy::WorkloadIdentity& identity, Resolver& resolver,
                                         const std::vector<std::string>& sha256_candidates) {
    IdentityMatcher m;
    m.identity_ = identity;
    if (auto compiled = compile_identity(identity, resolver, sha256_candidates))
        m.compiled_ = std::move(*compiled);
    else
        m.refused_ = compiled.error().message;

    // compile_identity hashes this identity's own process:path files too: a key compiled on its own
    // is given them explicitly.
    std::vector<std::string> candidates = sha256_candidates;
    for (const auto& p : program_paths({identity})) candidates.push_back(p);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (const auto& path : candidates)
        if (auto key = resolver.file(path)) m.program_names_.emplace_back(*key, path);

    for (const auto& alternative : identity.selectors) {
        std::vector<Key> keys;
        for (const auto& term : alternative.terms) {
            Key k{term.key, fact_of(term.key), term.values, {}, {}};
            policy::WorkloadIdentity alone;
            alone.meta.name = identity.meta.name;
            alone.workload_id = identity.workload_id;
            alone.allow_weak_selectors = true;  // process:name alone, to show what it compiles to
            alone.selectors.push_back(policy::SelectorAlternative{{term}, alternative.location});
            std::map<uint64_t, std::string> cgroup_paths;
            for (const auto& v : term.values) {
                if (term.key == policy::SelectorKey::cgroup_path) {
                    if (auto id = resolver.cgroup(v)) cgroup_paths[*id] = v;
                } else if (term.key == policy::SelectorKey::systemd_unit) {
                    if (auto unit = resolver.unit_cgroup(v)) cgroup_paths[unit->id] = unit->path;
                }
            }
            if (auto c = compile_identity(alone, resolver, candidates); c && !c->alternatives.empty()) {
                k.alone = c->alternatives.front();
                k.resolved = resolved_text(k.alone, k.fact, m.program_names_, cgroup_paths);
            }
            keys.push_back(std::move(k));
        }
        m.keys_.push_back(std::move(keys));
    }
    return m;
}

IdentityCheck IdentityMatcher::check(const ProcessFacts& facts) const {
    IdentityCheck out;
    out.refused = refused_;
    for (size_t a = 0; a < keys_.size(); ++a) {
        AlternativeCheck alt;
        for (const auto& k : keys_[a])
            alt.keys.push_back({k.key, k.wants, k.resolved, has_text(k.fact, facts, program_names_),
                                fact_matches(k.fact, k.alone, facts)});
        if (refused_.empty() && a < compiled_.alternatives.size()) {
            const auto& compiled = compiled_.alternatives[a];
            alt.matched = alternative_matches(compiled, facts);
            alt.runs_program = (compiled.fact_mask & fact_bit(Fact::exe)) && fact_matches(Fact::exe, compiled, facts);
        }
        if (alt.matched && !out.matched) {
            out.matched = true;
            out.alternative = a;
        }
        out.alternatives.push_back(std::move(alt));
    }
    return out;
}

CredentialVerdict credential_verdict(const IdentityCheck& check, const ProcessFacts& facts, bool is_credgated) {
    if (is_credgated) return {true, "it is credgated, which may open every credential"};
    if (!check.refused.empty())
        return {false, "the identity cannot be turned into kernel rules, so no process matches it: " + check.refused};
    if (!check.matched) {
        std::vector<std::string> why;
        for (size_t a = 0; a < check.alternatives.size(); ++a) {
            std::vector<std::string> keys;
            for (const auto& k : check.alternatives[a].keys)
                if (!k.matched) keys.push_back(std::string(policy::to_string(k.key)));
            why.push_back(fmt::format("alternative {}: {} did not match", a + 1,
                                      keys.empty() ? std::string("the combination") : fmt::format("{}", fmt::join(keys, ", "))));
        }
        return {false, why.empty() ? std::string("the identity has no selector alternative")
                                   : fmt::format("no selector alternative matches ({})", fmt::join(why, "; "))};
    }
    if (facts.traced)
        return {false, fmt::format("alternative {} matches, but a tracer is attached (TracerPid): the kernel refuses "
                                   "a credential to a traced process",
                                   *check.alternative + 1)};
    return {true, fmt::format("alternative {} matches", *check.alternative + 1)};
}

}  // namespace credgate::identity
