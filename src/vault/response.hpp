// SPDX-License-Identifier: Apache-2.0
// Parsing of Vault's 200 response envelopes. A Vault response is untrusted input: every field used
// is type-checked and a mismatch is a protocol error naming the field.
#pragma once

#include "vault/error.hpp"
#include "vault/types.hpp"

#include <cstddef>
#include <string_view>

namespace credgate::vault {

// Secrets and auth envelopes are a few KiB; anything above this is refused before parsing.
inline constexpr size_t kMaxResponseBody = 256 * 1024;

VaultResult<LoginResult> parse_login_response(std::string_view body, Operation op = Operation::login);
VaultResult<SecretResult> parse_secret_response(std::string_view body);
VaultResult<LeaseRenewal> parse_lease_renewal(std::string_view body);

}  // namespace credgate::vault
