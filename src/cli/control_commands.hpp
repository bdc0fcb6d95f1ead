// SPDX-License-Identifier: Apache-2.0
// The subcommands that talk to a running credgated over its control socket.
#pragma once

#include "cli/subcommand.hpp"
#include "common/clock.hpp"

namespace credgate::cli {

// `clock` (which must outlive the subcommand) says what "12s ago" is measured from.
Subcommand add_status(CLI::App& parent, const Clock& clock);
Subcommand add_get(CLI::App& parent);
Subcommand add_issuer(CLI::App& parent);
Subcommand add_reload(CLI::App& parent);
Subcommand add_rotate(CLI::App& parent);
Subcommand add_handover(CLI::App& parent);
Subcommand add_identities(CLI::App& parent);
Subcommand add_explain(CLI::App& parent);
Subcommand add_audit(CLI::App& parent);

}  // namespace credgate::cli
