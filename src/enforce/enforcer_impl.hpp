// SPDX-License-Identifier: Apache-2.0
// What an Enforcer holds, shared by the files that implement it: lifecycle.cpp and owners.cpp
// (skeleton, pins), objects.cpp and rules.cpp (the maps), audit_ring.cpp. Private to src/enforce.
#pragma once

#include <string>

#include "enforce/audit_ring.hpp"
#include "enforce/enforcer.hpp"
#include "enforce/kernel_maps.hpp"
#include "enforce/rcu_barrier.hpp"
#include "enforce/skeleton.hpp"

namespace credgate::enforce {

struct Enforcer::Impl {
    Settings settings;
    std::string self_path;      // this process's executable as it was started (/proc/self/exe)
    detail::Skeleton loaded;    // owns the fds in `maps`
    detail::KernelMaps maps;
    bool adopted = false;
    bool inactive_clean = false;  // the inactive rule half is known to be empty
    detail::RcuBarrier rcu;       // waited on before the retired half is emptied
    detail::AuditRing audit;

    std::string maps_dir() const { return settings.pin_dir + "/maps"; }
    std::string links_dir() const { return settings.pin_dir + "/links"; }
    // Where a replacement pins the new links until each is renamed over its predecessor (bpffs
    // refuses names with a dot).
    std::string staging_dir() const { return settings.pin_dir + "/links-next"; }
};

}  // namespace credgate::enforce
