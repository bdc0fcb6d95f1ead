// SPDX-License-Identifier: Apache-2.0
// The probe's verdict from the facts it gathered, separated from gathering them so tests can check
// every message on any host.
#pragma once

#include <optional>
#include <string>

#include "enforce/enforcer.hpp"

namespace credgate::enforce::detail {

struct ProbeFacts {
    std::optional<std::string> lsm_list;  // /sys/kernel/security/lsm; nullopt when unreadable
    bool btf_readable = false;            // /sys/kernel/btf/vmlinux
    bool btf_has_lsm_hooks = false;       // bpf_lsm_file_open in the kernel's BTF
    int load_errno = 0;                   // of a no-op LSM program load; 0: loaded
    int attach_errno = 0;                 // of attaching it; 0: attached
};

Support classify(const ProbeFacts& facts);

}  // namespace credgate::enforce::detail
