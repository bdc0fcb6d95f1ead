// SPDX-License-Identifier: Apache-2.0
// A check of a policy against this host: bound programs (process:path) that a uid other than root
// could replace by rename, for `credgatectl validate` and each binding in `credgatectl status`.
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/model.hpp"

#include <vector>

namespace credgate::identity {

// One warning per file or directory that lets a non-root uid swap a process:path program of
// `identity`, located at its selector. Programs that do not exist on this host are not checked.
std::vector<policy::Diagnostic> replaceable_bound_programs(const policy::WorkloadIdentity& identity);

}  // namespace credgate::identity
