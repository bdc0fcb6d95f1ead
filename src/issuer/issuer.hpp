// SPDX-License-Identifier: Apache-2.0
// Mints JWT-SVIDs with in-memory (or one opt-in persisted) signing keys, rotates them on a Clock,
// and renders the JWKS and OpenID discovery documents that Vault's JWT auth reads.
#pragma once

#include "common/clock.hpp"
#include "common/result.hpp"
#include "policy/model.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace credgate::issuer {

// A verifier (Vault: go-jose's DefaultLeeway) accepts a token this long after `exp`, so a retired
// key stays published that much longer.
inline constexpr Duration kVerifierClockSkew{std::chrono::seconds{60}};
inline constexpr size_t kMaxExtraClaims = 16;

struct IssuerOptions {
    policy::IssuerSettings settings;
    std::string trust_domain;  // informational; SPIFFE IDs come in MintRequest::subject
    std::string node;          // added as the `node` claim when not empty

    // The issuer part of credgate.yaml.
    static IssuerOptions from_config(const policy::AgentConfig& config) {
        return IssuerOptions{config.issuer, config.trust_domain, config.node};
    }
};

struct MintRequest {
    std::string subject;                // SPIFFE ID, "spiffe://<trust domain>/<workload>"
    std::vector<std::string> audience;  // at least one
    bool audience_as_string = false;    // a single audience as a JSON string instead of an array
    // Extra string claims for Vault bound_claims, e.g. {"binding", "openai-agent"}. Names are
    // lowercase [a-z0-9_]; registered names (iss, sub, aud, exp, nbf, iat, jti) are refused.
    std::vector<std::pair<std::string, std::string>> extra;
};

struct MintedToken {
    std::string jwt;  // compact JWS; a secret: never log it
    std::string kid;
    std::string jti;
    TimePoint issued_at;
    TimePoint expires_at;
};

// Not thread-safe: create, mint and render documents on the event loop's thread.
class Issuer {
public:
    virtual ~Issuer() = default;

    // Generates the first key (or loads/creates settings.key_file) and, without a key file, arms
    // rotation every settings.key_rotation on `clock`. `clock` must outlive the issuer.
    // Errors: ErrorKind::config for a bad URL, TTL or key file (including one readable by group or
    // other), ErrorKind::internal for crypto failures.
    static Result<std::unique_ptr<Issuer>> create(IssuerOptions options, Clock& clock);

    virtual Result<MintedToken> mint(const MintRequest& request) = 0;

    // {"keys":[...]} with every published key (current first).
    virtual std::string jwks_json() const = 0;
    // /.well-known/openid-configuration.
    virtual std::string discovery_json() const = 0;
    // The current signing key's public key, SubjectPublicKeyInfo PEM (for jwt_validation_pubkeys).
    virtual std::string public_key_pem() const = 0;
    virtual std::string current_kid() const = 0;
    // When the current signing key was made: generated (at start or by a rotation), or last
    // written to its key file.
    virtual TimePoint current_key_created() const = 0;
    // kids in the JWKS, current first.
    virtual std::vector<std::string> published_kids() const = 0;
    // "ES256", "RS256" or "EdDSA".
    virtual std::string algorithm() const = 0;
    // The configured issuer URL (the `iss` claim), exactly.
    virtual const std::string& issuer_url() const = 0;
    // Path part of jwks_uri and of the discovery document, as served by IssuerService.
    virtual std::string jwks_path() const = 0;
    virtual std::string discovery_path() const = 0;
};

const char* algorithm_name(policy::SigningAlgorithm alg) noexcept;

}  // namespace credgate::issuer
