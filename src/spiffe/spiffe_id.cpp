// SPDX-License-Identifier: Apache-2.0
// SPIFFE ID parsing and validation, and UUIDv5 derivation (SHA-1 from OpenSSL libcrypto).
#include "spiffe/spiffe_id.hpp"

#include <openssl/evp.h>

#include <fmt/format.h>

namespace credgate::spiffe {
namespace {

bool is_trust_domain_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool is_path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

std::string describe_char(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return fmt::format("byte 0x{:02x}", u);
    return fmt::format("'{}'", c);
}

// Checks segments of "a/b/c" (no leading '/').
std::optional<std::string> segments_error(std::string_view rel) {
    std::size_t start = 0;
    for (;;) {
        std::size_t end = rel.find('/', start);
        std::string_view seg = rel.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (seg.empty()) {
            if (end == std::string_view::npos && start > 0) return "must not end with '/'";
            return "must not contain an empty path segment ('//')";
        }
        if (seg == "." || seg == "..") return fmt::format("must not contain a '{}' path segment", seg);
        for (char c : seg)
            if (!is_path_char(c))
                return fmt::format("contains {}; path segments may contain only letters, digits, '.', '-' and '_'",
                                   describe_char(c));
        if (end == std::string_view::npos) return std::nullopt;
        start = end + 1;
    }
}

}  // namespace

std::optional<std::string> trust_domain_error(std::string_view trust_domain) {
    if (trust_domain.empty()) return "trust domain must not be empty";
    for (char c : trust_domain) {
        if (c >= 'A' && c <= 'Z') return "trust domain must be lowercase";
        if (!is_trust_domain_char(c))
            return fmt::format("trust domain contains {}; only lowercase letters, digits, '.', '-' and '_' are allowed",
                               describe_char(c));
    }
    if (kSpiffeScheme.size() + trust_domain.size() > kMaxSpiffeIdBytes)
        return fmt::format("trust domain makes the SPIFFE ID longer than {} bytes", kMaxSpiffeIdBytes);
    return std::nullopt;
}

std::optional<std::string> path_error(std::string_view path) {
    if (path.empty()) return std::nullopt;
    if (path.front() != '/') return "path must start with '/'";
    return segments_error(path.substr(1));
}

std::optional<std::string> workload_id_error(std::string_view workload_id) {
    if (workload_id.empty()) return "must not be empty";
    if (workload_id.starts_with("spiffe://"))
        return "is the path under the trust domain (e.g. 'ai-agent'), not a full SPIFFE ID";
    if (workload_id.front() == '/') return "must not start with '/': write the path under the trust domain, e.g. 'ai-agent'";
    return segments_error(workload_id);
}

Result<SpiffeId> parse_spiffe_id(std::string_view id) {
    if (id.size() > kMaxSpiffeIdBytes)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("SPIFFE ID is {} bytes, longer than the limit of {}", id.size(), kMaxSpiffeIdBytes));
    if (!id.starts_with(kSpiffeScheme))
        return fail(ErrorKind::invalid_argument, "SPIFFE ID must start with 'spiffe://' (lowercase)");
    std::string_view rest = id.substr(kSpiffeScheme.size());
    std::size_t slash = rest.find('/');
    std::string_view td = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    if (auto e = trust_domain_error(td)) return fail(ErrorKind::invalid_argument, "SPIFFE ID " + *e);
    if (auto e = path_error(path)) return fail(ErrorKind::invalid_argument, "SPIFFE ID " + *e);
    return SpiffeId{std::string(td), std::string(path)};
}

Result<SpiffeId> spiffe_id_for_workload(std::string_view trust_domain, std::string_view workload_id) {
    if (auto e = trust_domain_error(trust_domain)) return fail(ErrorKind::invalid_argument, *e);
    if (auto e = workload_id_error(workload_id)) return fail(ErrorKind::invalid_argument, "workload ID " + *e);
    SpiffeId id{std::string(trust_domain), "/" + std::string(workload_id)};
    if (auto size = id.str().size(); size > kMaxSpiffeIdBytes)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("SPIFFE ID '{}...' is {} bytes, longer than the limit of {}", id.str().substr(0, 40),
                                size, kMaxSpiffeIdBytes));
    return id;
}

Result<std::string> uuid_v5(const std::array<std::uint8_t, 16>& name_space, std::string_view name) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) return fail(ErrorKind::internal, "cannot allocate a digest context");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, name_space.data(), name_space.size()) == 1 &&
              EVP_DigestUpdate(ctx, name.data(), name.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1 && digest_len >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok) return fail(ErrorKind::internal, "SHA-1 digest failed");
    digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
    digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out += fmt::format("{:02x}", digest[i]);
    }
    return out;
}

Result<std::string> workload_uuid(const SpiffeId& id) { return uuid_v5(kUuidNamespaceUrl, id.str()); }

}  // namespace credgate::spiffe
