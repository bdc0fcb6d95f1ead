// SPDX-License-Identifier: Apache-2.0
// Whether a running process matches a WorkloadIdentity, decided on the identity's compiled kernel
// rules, with each selector key of each alternative set beside the process's fact.
#pragma once

#include "identity/compile.hpp"
#include "identity/process_facts.hpp"
#include "policy/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace credgate::identity {

// Whether `facts` satisfy one compiled alternative. This is a userspace evaluation of the compiled
// rules, not a second reading of the selectors: the sets are compile_identity's output, the very
// values credgated writes to the kernel's rule maps, and each fact is tested as
// credgate_match_alternative (bpf/credgate.bpf.c) tests it: the executed file recorded at exec
// (none: no match), fsuid, fsgid, the task's cgroup or one of its first CREDGATE_MAX_CGROUP_DEPTH
// ancestors, the 16 bytes of comm. Only facts whose bit is in fact_mask are tested.
bool alternative_matches(const CompiledAlternative& alternative, const ProcessFacts& facts);
// One fact of that test (fact_mask aside).
bool fact_matches(Fact fact, const CompiledAlternative& alternative, const ProcessFacts& facts);

// One selector key of one alternative, beside the process's fact.
struct KeyCheck {
    policy::SelectorKey key = policy::SelectorKey::process_path;
    std::vector<std::string> wants;     // the values as the policy writes them
    std::vector<std::string> resolved;  // what they compile to on this host, in words; empty: nothing
    std::string has;                    // the process's fact, in words
    bool matched = false;
};

struct AlternativeCheck {
    std::vector<KeyCheck> keys;  // in the order the policy writes them
    bool matched = false;        // the whole compiled alternative, as the kernel decides it
    // It names the program (process:path or process:sha256) and the process runs it.
    bool runs_program = false;
};

struct IdentityCheck {
    bool matched = false;
    std::optional<size_t> alternative;  // the first alternative that matched (0-based)
    std::vector<AlternativeCheck> alternatives;
    std::string refused;  // non-empty: the identity cannot be compiled, so the kernel has no rule for it
};

// One identity compiled for matching processes against it, once for many processes.
class IdentityMatcher {
public:
    // Compiles `identity` with compile_identity, as credgated does for the kernel (pass the same
    // sha256 candidates: program_paths of every identity), and each of its keys on its own for the
    // key-by-key view. A compilation error is kept and reported by check().
    static IdentityMatcher compile(const policy::WorkloadIdentity& identity, Resolver& resolver,
                                   const std::vector<std::string>& sha256_candidates);

    IdentityCheck check(const ProcessFacts& facts) const;
    const policy::WorkloadIdentity& identity() const noexcept { return identity_; }
    // Values that resolved to nothing, weak keys (compile_identity's warnings).
    const std::vector<std::string>& warnings() const noexcept { return compiled_.warnings; }
    // Why the identity cannot be compiled (the kernel then has no rule for it); empty when it can.
    const std::string& refused() const noexcept { return refused_; }

private:
    struct Key {
        policy::SelectorKey key;
        Fact fact;
        std::vector<std::string> wants;
        std::vector<std::string> resolved;
        CompiledAlternative alone;  // this key compiled on its own
    };
    policy::WorkloadIdentity identity_;
    CompiledIdentity compiled_;
    std::string refused_;
    std::vector<std::vector<Key>> keys_;  // per alternative
    std::vector<std::pair<FileKey, std::string>> program_names_;  // known programs, to name a file key
};

// Whether the kernel would let the process open a credential file of a binding with this identity:
// a match, and no tracer attached (credgate_gate_credential); credgated itself always may.
struct CredentialVerdict {
    bool allowed = false;
    std::string reason;  // in words
};
CredentialVerdict credential_verdict(const IdentityCheck& check, const ProcessFacts& facts, bool is_credgated);

// The fact a key compares, and the file key in words ("254:1 #1234").
Fact fact_of(policy::SelectorKey key) noexcept;
std::string file_key_text(const FileKey& key);

}  // namespace credgate::identity
