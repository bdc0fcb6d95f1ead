// SPDX-License-Identifier: Apache-2.0
// The probe's verdict from the facts it gathered, separated from gathering them so tests can check
// every message on any host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "enforce/enforcer.hpp"

namespace credgate::enforce::detail {

// A kernel symbol the BPF object takes from /proc/kallsyms: libbpf writes the address this process
// reads there into the programs when it loads them.
struct KallsymsEntry {
    std::string name;
    std::optional<uint64_t> address;  // nullopt: not listed (or /proc/kallsyms unreadable)
};

struct ProbeFacts {
    std::optional<std::string> lsm_list;  // /sys/kernel/security/lsm; nullopt when unreadable
    bool btf_readable = false;            // /sys/kernel/btf/vmlinux
    bool btf_has_lsm_hooks = false;       // bpf_lsm_file_open in the kernel's BTF
    int load_errno = 0;                   // of a no-op LSM program load; 0: loaded
    int attach_errno = 0;                 // of attaching it; 0: attached
    // Gathered once the no-op program attached: what the kernel shows this process of the symbols
    // the object resolves through /proc/kallsyms, and the settings that decide whether it shows zeros.
    std::vector<KallsymsEntry> kallsyms;
    std::optional<int> kptr_restrict;        // kernel.kptr_restrict
    std::optional<int> perf_event_paranoid;  // kernel.perf_event_paranoid
    bool cap_syslog = false;                 // CAP_SYSLOG in this process's effective set
};

Support classify(const ProbeFacts& facts);

}  // namespace credgate::enforce::detail
