// SPDX-License-Identifier: Apache-2.0
// Who is credgated: the executables registered in credgate_owners, whose root processes may open,
// replace and remove the pins. Private to src/enforce.
#pragma once

#include <string>

#include "common/result.hpp"
#include "enforce/enforcer_impl.hpp"

namespace credgate::enforce::detail {

// This process's executable path as it was started (before a package may replace the file).
std::string self_executable_path();

// Registers this process's executable, then each of Settings::owner_executables that is not
// registered yet (those that cannot be are logged and skipped).
Result<void> register_self_and_listed(Enforcer::Impl& impl);

}  // namespace credgate::enforce::detail
