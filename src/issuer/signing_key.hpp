// SPDX-License-Identifier: Apache-2.0
// One asymmetric signing key (ES256, RS256 or EdDSA) with its JWK, RFC 7638 kid and PEM forms.
// Botan stays behind the pimpl: nothing outside src/issuer sees it.
#pragma once

#include "common/result.hpp"
#include "policy/model.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credgate::issuer {

inline constexpr size_t kRsaKeyBits = 2048;

class SigningKey {
public:
    ~SigningKey();
    SigningKey(SigningKey&&) noexcept;
    SigningKey& operator=(SigningKey&&) noexcept;

    static Result<SigningKey> generate(policy::SigningAlgorithm alg);
    // PKCS#8 PEM (unencrypted). The key's type must match `alg` (P-256 for ES256).
    static Result<SigningKey> from_pkcs8_pem(std::string_view pem, policy::SigningAlgorithm alg,
                                             std::string_view origin);

    policy::SigningAlgorithm algorithm() const;
    const char* jws_alg() const;  // "ES256", "RS256", "EdDSA"
    const std::string& kid() const;  // RFC 7638 thumbprint, base64url SHA-256
    // The JWK members that define the key, in lexicographic order (kty, crv, x, y / e, n).
    const std::vector<std::pair<std::string, std::string>>& jwk_members() const;
    std::string pkcs8_pem() const;      // a secret
    std::string public_key_pem() const;  // SubjectPublicKeyInfo
    // The JWS signature over `input`: raw R||S (64 bytes) for ES256, PKCS#1 v1.5 for RS256.
    // Deterministic (RFC 6979 nonces for ES256). Safe from any thread: the key's one signer, built on
    // the first call, signs one input at a time.
    Result<std::vector<uint8_t>> sign(std::string_view input) const;

    struct Impl;  // opaque outside signing_key.cpp

private:
    explicit SigningKey(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace credgate::issuer
