// SPDX-License-Identifier: Apache-2.0
// base64url without padding (RFC 7515 §2), as JWS and JWK encode every binary value.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::issuer {

std::string base64url_encode(std::span<const uint8_t> data);
std::string base64url_encode(std::string_view data);
// nullopt on a character outside the alphabet, padding, or an impossible length.
std::optional<std::vector<uint8_t>> base64url_decode(std::string_view text);

}  // namespace credgate::issuer
