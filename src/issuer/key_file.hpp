// SPDX-License-Identifier: Apache-2.0
// The opt-in persisted signing key: PKCS#8 PEM, owner-only, written atomically, loaded if present.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"
#include "issuer/signing_key.hpp"

#include <optional>
#include <string>

namespace credgate::issuer {

struct PersistedKey {
    SigningKey key;
    // When the file was last written (its mtime); none when it was created just now.
    std::optional<TimePoint> written;
};

// Loads `path`, or generates a key and writes it there (mode 0600, via a temporary file and
// rename) when it does not exist. A file accessible by group or other, not owned by the
// effective uid, or not a regular file is refused with ErrorKind::config.
Result<PersistedKey> load_or_create_key_file(const std::string& path, policy::SigningAlgorithm alg);

}  // namespace credgate::issuer
