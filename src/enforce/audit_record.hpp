// SPDX-License-Identifier: Apache-2.0
// One raw record of the credgate_audit ring buffer decoded into an AuditEvent: a pure function of
// the record's bytes, with no libbpf, so the unit tests and the fuzzer run the daemon's decoder.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "enforce/enforcer.hpp"

namespace credgate::enforce {

// The record as the ring buffer hands it over (struct credgate_audit_event, credgate_abi.h). A
// record shorter than that struct decodes to nothing; bytes past it are ignored. Unknown hook and
// verdict numbers are named "unknown"; comm ends at its first NUL or at the field's end.
std::optional<AuditEvent> decode_audit_record(std::span<const std::byte> record);

}  // namespace credgate::enforce
