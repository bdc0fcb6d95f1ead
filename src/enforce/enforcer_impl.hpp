// SPDX-License-Identifier: Apache-2.0
// What an Enforcer holds, shared by the files that implement it: lifecycle.cpp (skeleton, pins),
// objects.cpp and rules.cpp (the maps), audit_ring.cpp. Private to src/enforce.
#pragma once

#include <string>
#include <vector>

#include "enforce/audit_ring.hpp"
#include "enforce/enforcer.hpp"
#include "enforce/kernel_maps.hpp"

struct credgate_bpf;  // the generated skeleton, seen by lifecycle.cpp only

namespace credgate::enforce {

namespace detail {

// The opened skeleton and the fds opened from pins; closing them leaves pinned links attached.
class Skeleton {
public:
    Skeleton() = default;
    ~Skeleton();  // lifecycle.cpp
    Skeleton(const Skeleton&) = delete;
    Skeleton& operator=(const Skeleton&) = delete;

    credgate_bpf* skel = nullptr;
    std::vector<int> owned_fds;
};

}  // namespace detail

struct Enforcer::Impl {
    Settings settings;
    detail::Skeleton loaded;  // owns the fds in `maps`
    detail::KernelMaps maps;
    bool adopted = false;
    bool inactive_clean = false;  // the inactive rule half is known to be empty
    detail::AuditRing audit;

    std::string maps_dir() const { return settings.pin_dir + "/maps"; }
    std::string links_dir() const { return settings.pin_dir + "/links"; }
};

}  // namespace credgate::enforce
