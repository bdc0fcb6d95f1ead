// SPDX-License-Identifier: Apache-2.0
// The uid a workload identity pins, if it pins exactly one: its credential file then belongs to
// that uid with mode 0400, a second layer under the kernel programs (DESIGN §4).
#pragma once

#include "policy/model.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace credgate::protection {

// A user name to its uid; nothing when there is no such user.
using UserLookup = std::function<std::optional<uint32_t>(const std::string& name)>;

// The uid every selector alternative requires through process:uid and process:user (the values of
// one key are alternatives, keys inside an alternative all hold). Nothing when an alternative has
// neither key, admits other than exactly one uid, or names a user that does not resolve now.
std::optional<uint32_t> pinned_uid(const policy::WorkloadIdentity& identity, const UserLookup& user);

// getpwnam_r on this host.
std::optional<uint32_t> system_user(const std::string& name);

// What status says of a binding whose file has no owner of its own.
inline constexpr const char* kOnlyKernelGate =
    "the kernel programs are the only gate (the identity pins no single uid)";

}  // namespace credgate::protection
