// SPDX-License-Identifier: Apache-2.0
// Protection over src/enforce when it is built (CREDGATE_HAVE_ENFORCE), else a gate that can only
// block or, with the development override, let secrets through unprotected.
#include "protection/protection.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#if CREDGATE_HAVE_ENFORCE
#include "enforce/enforcer.hpp"
#include "enforce/exec_records.hpp"
#include "identity/caching_resolver.hpp"
#include "identity/compile.hpp"
#include "identity/host_resolver.hpp"
#include "protection/rule_swap.hpp"

#include <linux/magic.h>
#endif

namespace credgate::protection {
namespace {

constexpr const char* kComponent = "protection";

constexpr const char* kBuiltWithoutEnforcement =
    "this credgated was built without BPF enforcement (clang, bpftool or kernel BTF were missing at build time)";
// The remedy for the problem itself is in its message (the probe names the missing piece and the fix).
constexpr const char* kOverride = "for development only, run credgated with --insecure-no-enforcement";

// The log fields of the bindings applied so far, by name (a binding that went away keeps its own,
// for the lines about its retired files).
class BindingFields {
public:
    void update(const std::vector<policy::BindingDefinition>& bindings) {
        for (const auto& b : bindings) spiffe_ids_[b.binding.meta.name] = b.spiffe_id;
    }
    log::Fields of(const std::string& binding) const {
        auto it = spiffe_ids_.find(binding);
        return log::binding_fields(binding, it == spiffe_ids_.end() ? std::string() : it->second);
    }

private:
    std::map<std::string, std::string> spiffe_ids_;
};

class Unprotected final : public Protection {
public:
    Unprotected(ProtectionMode mode, std::string problem) : mode_(mode), problem_(std::move(problem)) {}
    ProtectionMode mode() const override { return mode_; }
    const std::string& problem() const override { return problem_; }
    Result<std::map<std::string, std::string>> apply(const std::vector<policy::BindingDefinition>& bindings) override {
        fields_.update(bindings);
        return std::map<std::string, std::string>{};
    }
    Result<void> protect(const std::string&, const delivery::Target& target, delivery::FileId) override {
        if (mode_ != ProtectionMode::insecure)
            return fail(ErrorKind::unsupported, "kernel enforcement is unavailable: " + problem_);
        log::warning(fields_.of(target.binding), kComponent,
                     "Publishing '{}/crb-{}/{}' WITHOUT kernel enforcement (--insecure-no-enforcement): any "
                     "process allowed by file permissions can read it",
                     target.workload_uuid, target.binding, target.file_name);
        return {};
    }
    void unprotect(const std::string&, const delivery::Target&, delivery::FileId) override {}

private:
    ProtectionMode mode_;
    std::string problem_;
    BindingFields fields_;
};

#if CREDGATE_HAVE_ENFORCE
class Enforced final : public Protection {
public:
    Enforced(std::unique_ptr<enforce::Enforcer> e, Clock& clock, std::string pin_dir)
        : enforcer_(std::move(e)),
          pin_dir_(std::move(pin_dir)),
          swap_(clock,
                {[this] { return enforcer_->inactive_half_clean(); }, [this] { return enforcer_->clear_inactive_half(); },
                 [this](const identity::CompiledRules& r) { return enforcer_->apply_rules(r); }},
                enforce::kRuleGracePeriod) {}
    ProtectionMode mode() const override { return ProtectionMode::enforced; }
    const std::string& problem() const override { return problem_; }

    Result<std::map<std::string, std::string>> apply(const std::vector<policy::BindingDefinition>& bindings) override {
        identity::SystemResolver host;
        identity::CachingResolver resolver(host);
        std::vector<policy::WorkloadIdentity> identities;
        for (const auto& b : bindings) identities.push_back(b.identity);
        const std::vector<std::string> candidates = identity::program_paths(identities);
        std::map<std::string, std::string> refused;
        std::set<std::string> warned;
        std::vector<std::string> names;
        for (const auto& b : bindings) names.push_back(b.binding.meta.name);
        if (!applied_once_) adopt_slots(names);
        // Slots of bindings that a set still waiting to be written removes stay reserved: the kernel
        // still gives them to those bindings.
        if (!swap_.waiting()) unwritten_.clear();
        std::map<std::string, uint32_t> previous = index_;
        previous.insert(unwritten_.begin(), unwritten_.end());
        auto [slots, size] = assign_slots(previous, names);
        identity::CompiledRules rules;
        rules.bindings.resize(size);  // unused and reserved slots: no alternative, matches nobody
        for (const auto& b : bindings) {
            const uint32_t slot = slots[b.binding.meta.name];
            auto compiled = identity::compile_identity(b.identity, resolver, candidates);
            if (!compiled) {
                refused[b.binding.meta.name] = compiled.error().message;
                continue;
            }
            // Rules are recompiled whenever a unit starts or stops: a warning is logged when it first
            // appears, not again while it holds.
            for (const auto& w : compiled->warnings) {
                std::string line = "WorkloadIdentity " + w;  // w starts with the identity's name
                if (!warned_.contains(line)) log::warning(kComponent, "{}", line);
                warned.insert(std::move(line));
            }
            rules.bindings[slot] = {b.binding.meta.name, b.spiffe_id, std::move(*compiled)};
        }
        if (auto r = swap_.write(rules); !r) return fail(r.error());
        applied_once_ = true;
        // Retired files of bindings that went away: no binding may open them any more, even once
        // their slot is given to another binding.
        for (const auto& [name, slot] : index_)
            if (!slots.contains(name)) {
                revoke_retired(name);
                unwritten_[name] = slot;
            }
        index_ = std::move(slots);
        if (swap_.waiting())
            std::erase_if(unwritten_, [this](const auto& e) { return index_.contains(e.first); });
        else
            unwritten_.clear();
        rules_ = std::move(rules);
        warned_ = std::move(warned);
        fields_.update(bindings);
        return refused;
    }

    Result<void> protect(const std::string& root, const delivery::Target& target, delivery::FileId file) override {
        auto it = index_.find(target.binding);
        if (it == index_.end())
            return fail(ErrorKind::internal, fmt::format("binding '{}' has no kernel rules", target.binding));
        if (auto r = enforcer_->protect_file(key_of(file), it->second); !r) return r;
        return protect_directories(root, target, file);
    }

    // A retired file stays protected until the kernel frees its inode: an O_PATH fd or an open fd
    // held across the rotation still reaches it. Its binding keeps reading it while the binding
    // exists; once the binding is gone, nobody does. A removed sysfs node is different: nothing
    // reaches it any more (an fd still open reads ENODEV) and its number is never reused, so its
    // entry goes now, with those of its directories if they went too.
    void unprotect(const std::string& root, const delivery::Target& target, delivery::FileId file) override {
        const identity::FileKey key = key_of(file);
        if (file.fs_magic == SYSFS_MAGIC) {
            if (auto r = enforcer_->forget(key); !r)
                log::warning(fields_.of(target.binding), kComponent,
                             "Failed to drop the kernel entry of a removed file of binding '{}': {}", target.binding,
                             r.error().message);
            forget_removed_directories(root, target);
            return;
        }
        if (index_.contains(target.binding)) {
            auto& held = retired_[target.binding];
            if (held.size() >= kRetiredPruneAt)
                std::erase_if(held, [this](const identity::FileKey& k) { return !enforcer_->is_protected(k); });
            held.push_back(key);
            return;
        }
        if (auto r = enforcer_->revoke_access(key); !r)
            log::warning(fields_.of(target.binding), kComponent,
                         "Failed to revoke access to a retired file of binding '{}': {}", target.binding,
                         r.error().message);
    }

    bool holds(const delivery::Target& target, delivery::FileId file) override {
        auto it = index_.find(target.binding);
        if (it == index_.end()) return false;
        auto o = enforcer_->object(key_of(file));
        return o && o->credential() && o->binding == it->second;
    }

    void release_root() override {
        for (const auto& root : roots_) {
            struct stat st {};
            if (::lstat(root.c_str(), &st) != 0) continue;
            if (auto r = enforcer_->release_directory(dir_key(root, st)); !r)
                log::warning(kComponent, "Failed to release '{}' after shutdown: {}", root, r.error().message);
        }
    }

    void register_owners() override { enforcer_->register_owners(); }

    Result<std::string> register_own_path() override {
        auto r = enforcer_->register_own_path();
        if (!r) return fail(r.error());
        if (*r) return fmt::format("registered '{}' as a credgated executable", enforcer_->own_path());
        return fmt::format("'{}' is a registered credgated executable already", enforcer_->own_path());
    }

    size_t drain_audit() override {
        auto n = enforcer_->poll_audit(std::chrono::milliseconds{0}, [this](const enforce::AuditEvent& e) {
            const auto* binding = enforce::audit_binding(e, &rules_);
            ++audit_counts_[{binding ? binding->name : std::string(), e.verdict}];
            log::Fields fields = binding ? log::binding_fields(binding->name, binding->spiffe_id) : log::Fields{};
            fields.push_back({std::string(log::kVerdictField), e.verdict});
            // Not a message of this module: the kernel's decisions, one JSON object a line, filtered by "audit:".
            const std::string line = enforce::audit_json(e, &rules_);
            log::write(e.verdict == "allow" ? log::Level::info : log::Level::notice, "audit", line, fields);
            if (audit_observer_) audit_observer_(line);
        });
        if (!n) {
            if (!audit_failed_)
                log::error(kComponent, "Failed to read the kernel's audit events from 'credgate_audit': {}",
                           n.error().message);
            audit_failed_ = true;
            return 0;
        }
        return *n;
    }

    AuditCounts audit_counts() const override { return audit_counts_; }
    void on_audit(std::function<void(const std::string&)> observer) override { audit_observer_ = std::move(observer); }

    Result<std::optional<identity::FileKey>> executed_file(pid_t pid) const override {
        if (!exec_records_) {
            auto opened = enforce::ExecRecords::open(pin_dir_);
            if (!opened) return fail(opened.error());
            exec_records_ = std::move(*opened);
        }
        return exec_records_->executed_file(pid);
    }

private:
    // A restarted credgated keeps every binding in the slot it had, so the files it published keep
    // their rules; files of bindings this credgated does not have are opened by nobody.
    void adopt_slots(const std::vector<std::string>& names) {
        std::map<uint64_t, std::string> by_hash;
        for (const auto& n : names) by_hash[enforce::binding_name_hash(n)] = n;
        std::vector<uint32_t> orphaned;
        for (const auto& [slot, hash] : enforcer_->live_slots()) {
            auto it = by_hash.find(hash);
            if (it != by_hash.end() && !index_.contains(it->second)) index_[it->second] = slot;
            else orphaned.push_back(slot);
        }
        if (!orphaned.empty()) {
            auto n = enforcer_->revoke_slots(orphaned);
            if (!n)
                log::warning(kComponent, "Failed to revoke access to files of bindings this credgated does not have: {}",
                             n.error().message);
            else if (*n)
                log::notice(kComponent, "Revoked access to {} file(s) of bindings this credgated does not have", *n);
        }
        if (!index_.empty()) log::info(kComponent, "Kept the kernel slots of {} binding(s) from the pinned rules", index_.size());
    }

    void revoke_retired(const std::string& binding) {
        auto it = retired_.find(binding);
        if (it == retired_.end()) return;
        for (const auto& key : it->second)
            if (auto r = enforcer_->revoke_access(key); !r)
                log::warning(fields_.of(binding), kComponent,
                             "Failed to revoke access to a retired file of binding '{}': {}", binding,
                             r.error().message);
        retired_.erase(it);
    }

    static identity::FileKey key_of(delivery::FileId file) {
        return enforce::object_key(file.device, file.inode, file.fs_magic);
    }
    static identity::FileKey dir_key(const std::string& dir, const struct stat& st) {
        struct statfs fs {};
        const uint64_t magic = ::statfs(dir.c_str(), &fs) == 0 ? static_cast<uint32_t>(fs.f_type) : 0;
        return enforce::object_key(st.st_dev, st.st_ino, magic);
    }

    static std::vector<std::string> directories(const std::string& root, const delivery::Target& target) {
        const std::string workload_dir = root + "/" + target.workload_uuid;
        return {root, workload_dir, workload_dir + "/" + std::string(delivery::kBindingDirPrefix) + target.binding};
    }

    // The root, the workload and binding directories above the file: only credgated may add,
    // remove or rename their entries or mount over or unmount them, and they cannot be renamed
    // themselves, so the file cannot be moved out of reach or shadowed.
    Result<void> protect_directories(const std::string& root, const delivery::Target& target,
                                     delivery::FileId file) {
        for (const std::string& dir : directories(root, target)) {
            struct stat st {};
            if (::lstat(dir.c_str(), &st) != 0)
                return fail(ErrorKind::internal,
                            fmt::format("cannot protect directory '{}': stat: {}", dir, std::strerror(errno)));
            if (!S_ISDIR(st.st_mode) || static_cast<uint64_t>(st.st_dev) != file.device)
                return fail(ErrorKind::internal, fmt::format("cannot protect directory '{}': not a directory on "
                                                             "the credential file's file system",
                                                             dir));
            const identity::FileKey key = enforce::object_key(st.st_dev, st.st_ino, file.fs_magic);
            if (auto r = enforcer_->protect_directory(key); !r)
                return fail(r.error().kind,
                            fmt::format("cannot protect directory '{}': {}", dir, r.error().message));
            if (file.fs_magic == SYSFS_MAGIC) sysfs_dirs_[dir] = key;
        }
        roots_.insert(root);
        return {};
    }

    // sysfs directories go with their last file; their entries are dropped as the files' are.
    void forget_removed_directories(const std::string& root, const delivery::Target& target) {
        for (const std::string& dir : directories(root, target)) {
            auto it = sysfs_dirs_.find(dir);
            struct stat st {};
            if (it == sysfs_dirs_.end() || ::lstat(dir.c_str(), &st) == 0) continue;
            if (auto r = enforcer_->forget(it->second); !r)
                log::warning(kComponent, "Failed to drop the kernel entry of removed directory '{}': {}", dir,
                             r.error().message);
            sysfs_dirs_.erase(it);
        }
    }

    std::unique_ptr<enforce::Enforcer> enforcer_;
    std::string pin_dir_;
    mutable std::optional<enforce::ExecRecords> exec_records_;  // opened at the first question
    RuleSwap swap_;  // after enforcer_: its timer goes first
    // Bindings a rule set still waiting in swap_ removes, by slot (the kernel's rules still name them).
    std::map<std::string, uint32_t> unwritten_;
    std::set<std::string> roots_;  // sink roots: <root>/<workload uuid>/crb-<binding>/<file>
    std::map<std::string, identity::FileKey> sysfs_dirs_;  // protected sysfs directories, by path
    std::string problem_;
    std::map<std::string, uint32_t> index_;  // binding name -> kernel index
    identity::CompiledRules rules_;          // the applied rule set, to name bindings in audit lines
    // Files a binding no longer publishes that the kernel may still protect (until freed).
    std::map<std::string, std::vector<identity::FileKey>> retired_;
    static constexpr size_t kRetiredPruneAt = 64;
    bool applied_once_ = false;
    bool audit_failed_ = false;  // logged once
    AuditCounts audit_counts_;
    BindingFields fields_;
    std::function<void(const std::string&)> audit_observer_;
    std::set<std::string> warned_;  // compile warnings of the applied rule set, logged once
};
#endif

}  // namespace

SlotAssignment assign_slots(const std::map<std::string, uint32_t>& previous, const std::vector<std::string>& names) {
    SlotAssignment out;
    std::vector<bool> used;
    auto take = [&used](uint32_t slot) {
        if (used.size() <= slot) used.resize(slot + 1, false);
        used[slot] = true;
    };
    for (const auto& n : names)
        if (auto it = previous.find(n); it != previous.end()) {
            out.slots[n] = it->second;
            take(it->second);
        }
    // Slots of bindings that are going away stay reserved for this rule set; their files are
    // removed right after it is applied, in the same reload.
    for (const auto& [n, slot] : previous)
        if (!out.slots.contains(n)) take(slot);
    for (const auto& n : names) {
        if (out.slots.contains(n)) continue;
        uint32_t slot = 0;
        while (slot < used.size() && used[slot]) ++slot;
        take(slot);
        out.slots[n] = slot;
    }
    out.size = used.size();
    return out;
}

const char* to_string(ProtectionMode m) noexcept {
    switch (m) {
        case ProtectionMode::enforced:
            return "enforced";
        case ProtectionMode::insecure:
            return "insecure";
        case ProtectionMode::blocked:
            return "blocked";
    }
    return "?";
}

std::string Protection::blocked_message() const {
    return fmt::format("credgated refuses to publish secrets without kernel enforcement: {}; {}", problem(),
                       kOverride);
}

EnforcementCheck check_enforcement() {
#if CREDGATE_HAVE_ENFORCE
    const auto& support = enforce::probe();
    return {support.supported, support.supported ? std::string{} : support.message};
#else
    return {false, kBuiltWithoutEnforcement};
#endif
}

std::unique_ptr<Protection> Protection::create(const policy::AgentConfig& config, bool insecure, Clock& clock) {
    std::string problem;
#if CREDGATE_HAVE_ENFORCE
    enforce::Settings s;
    s.mode = config.enforcement.mode;
    s.pin_dir = config.enforcement.pin_dir;
    s.owner_executables = config.enforcement.owner_executables;
    auto e = enforce::Enforcer::create(s);  // logs why it cannot enforce, once
    if (e) return std::make_unique<Enforced>(std::move(*e), clock, s.pin_dir);
    problem = fmt::format("cannot start BPF LSM enforcement under '{}': {}", s.pin_dir, e.error().message);
    const std::string cause = "kernel enforcement is unavailable (see the enforce error)";
#else
    (void)config;
    (void)clock;
    problem = kBuiltWithoutEnforcement;
    const std::string cause = problem;
#endif
    if (insecure) {
        log::warning(kComponent,
                     "Publishing secrets WITHOUT kernel protection (--insecure-no-enforcement; development only): {}",
                     cause);
        return std::make_unique<Unprotected>(ProtectionMode::insecure, problem);
    }
    log::error(kComponent, "Publishing no secret: {}; {}", cause, kOverride);
    return std::make_unique<Unprotected>(ProtectionMode::blocked, problem);
}

}  // namespace credgate::protection
