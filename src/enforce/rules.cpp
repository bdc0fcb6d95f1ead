// SPDX-License-Identifier: Apache-2.0
// Rule sets: compiled rules written to the inactive half of credgate_rules/credgate_binds and made
// live by one flip of credgate_state, the retired half emptied, the mode, and the slots left live.
#include <bpf/bpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "enforce/enforcer_impl.hpp"
#include "policy/values.hpp"

#include "credgate_abi.h"

namespace credgate::enforce {

using detail::errno_text;

namespace {

// Programs no rule names any more lose their marks: an inode number is reused once its file is
// gone, and a stale mark would write-protect and ptrace-protect an unrelated program.
Result<size_t> drop_stale_trusted(detail::KernelMaps& maps, const std::set<FileKey>& trusted) {
    size_t dropped = 0;
    for (const auto& [key, value] : maps.all_objects()) {
        if (!(value.flags & CREDGATE_OBJ_TRUSTED_EXEC) || trusted.contains(key)) continue;
        const bool owner = maps.is_owner_exe(key);
        auto r = maps.update_existing(key, [owner](credgate_object& v) {
            v.flags &= ~static_cast<__u32>(CREDGATE_OBJ_TRUSTED_EXEC);
            if (!owner) v.flags &= ~static_cast<__u32>(CREDGATE_OBJ_NO_WRITE);
            return true;
        });
        if (!r) return fail(r.error());
        if (*r) ++dropped;
    }
    return dropped;
}

}  // namespace

std::vector<std::pair<uint32_t, uint64_t>> Enforcer::live_slots() {
    std::vector<std::pair<uint32_t, uint64_t>> out;
    auto st = impl_->maps.read_state();
    if (!st) return out;
    const uint32_t generation = st->generation & 1;
    const uint32_t n = std::min<uint32_t>(st->n_bindings[generation], CREDGATE_MAX_BINDINGS);
    for (uint32_t b = 0; b < n; ++b) {
        uint32_t index = generation * CREDGATE_MAX_BINDINGS + b;
        credgate_binding rec{};
        if (bpf_map_lookup_elem(impl_->maps.binds, &index, &rec) == 0 && rec.name_hash != 0)
            out.emplace_back(b, rec.name_hash);
    }
    return out;
}

uint64_t binding_name_hash(std::string_view name) noexcept {
    uint64_t h = 14695981039346656037ull;  // FNV-1a 64
    for (unsigned char c : name) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h == 0 ? 1 : h;
}

Result<void> Enforcer::apply_rules(const identity::CompiledRules& rules) {
    auto& maps = impl_->maps;
    if (rules.bindings.size() > CREDGATE_MAX_BINDINGS)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("{} bindings, the kernel maps hold {}", rules.bindings.size(), CREDGATE_MAX_BINDINGS));
    // 1. The inactive half was live until the previous flip; it must have been emptied after the
    // grace period (clear_inactive_half), never here: a hook may still be evaluating against it.
    if (!impl_->inactive_clean)
        return fail(ErrorKind::internal, "the inactive rule half still holds the rules of the previous flip");
    auto current = maps.read_state();
    if (!current) return fail(current.error());
    const uint32_t next = (current->generation & 1) ^ 1;
    impl_->inactive_clean = false;  // from the first entry written until it is cleared again

    // 2. Fill it.
    uint8_t one = 1;
    auto add = [&](uint32_t b, uint32_t a, uint32_t fact, uint64_t v0, uint64_t v1) -> Result<void> {
        credgate_rule_key k{};
        k.generation = next;
        k.binding = static_cast<__u16>(b);
        k.alternative = static_cast<__u8>(a);
        k.fact = static_cast<__u8>(fact);
        k.v[0] = v0;
        k.v[1] = v1;
        if (bpf_map_update_elem(maps.rules, &k, &one, BPF_ANY) != 0)
            return fail(ErrorKind::internal,
                        fmt::format("cannot add a rule for {}: {} (limit {} entries)",
                                    b == CREDGATE_RULE_EXEC_INDEX ? std::string("the exec index") : fmt::format("binding {}", b),
                                    errno_text(errno), CREDGATE_MAX_RULE_ENTRIES));
        return {};
    };
    std::set<FileKey> trusted;
    for (uint32_t b = 0; b < CREDGATE_MAX_BINDINGS; ++b) {
        credgate_binding rec{};
        if (b < rules.bindings.size()) {
            if (!rules.bindings[b].name.empty()) rec.name_hash = binding_name_hash(rules.bindings[b].name);
            const auto& alts = rules.bindings[b].identity.alternatives;
            rec.n_alternatives = static_cast<__u32>(std::min(alts.size(), policy::kMaxSelectorAlternatives));
            for (uint32_t a = 0; a < rec.n_alternatives; ++a) {
                const auto& alt = alts[a];
                rec.fact_mask[a] = alt.fact_mask;
                // The exec index: the files this alternative requires, or {0, 0} when it requires none.
                if (alt.fact_mask != 0 && !(alt.fact_mask & (1u << CREDGATE_FACT_EXE))) {
                    if (auto r = add(CREDGATE_RULE_EXEC_INDEX, 0, CREDGATE_FACT_EXE, 0, 0); !r) return r;
                }
                for (const auto& e : alt.exes) {
                    if (auto r = add(b, a, CREDGATE_FACT_EXE, e.dev, e.ino); !r) return r;
                    if (auto r = add(CREDGATE_RULE_EXEC_INDEX, 0, CREDGATE_FACT_EXE, e.dev, e.ino); !r) return r;
                }
                for (auto u : alt.uids) if (auto r = add(b, a, CREDGATE_FACT_UID, u, 0); !r) return r;
                for (auto g : alt.gids) if (auto r = add(b, a, CREDGATE_FACT_GID, g, 0); !r) return r;
                for (auto c : alt.cgroups) if (auto r = add(b, a, CREDGATE_FACT_CGROUP, c, 0); !r) return r;
                for (const auto& c : alt.comms) {
                    uint64_t v[2] = {};
                    std::memcpy(v, c.data(), sizeof(v));
                    if (auto r = add(b, a, CREDGATE_FACT_COMM, v[0], v[1]); !r) return r;
                }
            }
            for (const auto& exe : rules.bindings[b].identity.trusted_execs) {
                if (auto r = register_trusted_exec(exe); !r) return r;
                trusted.insert(exe);
            }
        }
        uint32_t index = next * CREDGATE_MAX_BINDINGS + b;
        if (bpf_map_update_elem(maps.binds, &index, &rec, BPF_ANY) != 0)
            return fail(ErrorKind::internal, fmt::format("cannot write binding {}: {}", b, errno_text(errno)));
    }

    // 3. The inactive half's size (what an exec is evaluated against), then the flip: one 4-byte
    // store makes the whole new set live.
    auto st = maps.read_state();
    if (!st) return fail(st.error());
    st->n_bindings[next] = static_cast<__u32>(rules.bindings.size());
    if (auto r = maps.store_state(*st); !r) return r;
    if (auto r = maps.write_state(next, std::nullopt); !r) return r;

    // 4. Marks of programs no rule names any more.
    if (auto r = drop_stale_trusted(maps, trusted); !r) return fail(r.error());
    return {};
}

bool Enforcer::inactive_half_clean() const noexcept { return impl_->inactive_clean; }

Result<void> Enforcer::clear_inactive_half() {
    auto current = impl_->maps.read_state();
    if (!current) return fail(current.error());
    const uint32_t inactive = (current->generation & 1) ^ 1;
    // A hook that read the generation before the flip may still be looking this half up: wait until
    // every program running now has returned (the caller's grace period makes this wait short).
    if (auto r = impl_->rcu.wait(); !r) return r;
    std::vector<credgate_rule_key> stale;
    credgate_rule_key key{}, next_key{};
    const void* cursor = nullptr;
    while (bpf_map_get_next_key(impl_->maps.rules, cursor, &next_key) == 0) {
        if (next_key.generation == inactive) stale.push_back(next_key);
        key = next_key;
        cursor = &key;
    }
    for (const auto& k : stale) bpf_map_delete_elem(impl_->maps.rules, &k);
    impl_->inactive_clean = true;
    return {};
}

Result<void> Enforcer::set_mode(policy::EnforcementMode mode) { return impl_->maps.write_state(std::nullopt, mode); }

}  // namespace credgate::enforce
