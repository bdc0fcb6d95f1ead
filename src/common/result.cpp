// SPDX-License-Identifier: Apache-2.0
// Names of error kinds, as printed in logs and status output.
#include "common/result.hpp"

namespace credgate {

const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::invalid_argument: return "invalid argument";
    case ErrorKind::not_found: return "not found";
    case ErrorKind::permission: return "permission denied";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::rate_limited: return "rate limited";
    case ErrorKind::transport: return "transport";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::config: return "configuration";
    case ErrorKind::internal: return "internal";
    }
    return "unknown";
}

}  // namespace credgate
