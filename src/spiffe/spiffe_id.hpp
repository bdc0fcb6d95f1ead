// SPDX-License-Identifier: Apache-2.0
// SPIFFE IDs (spiffe://<trust domain>/<path>): parsing and validation by the SPIFFE ID standard,
// and the UUIDv5 that names a workload's delivery directory.
#pragma once

#include "common/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace credgate::spiffe {

inline constexpr std::size_t kMaxSpiffeIdBytes = 2048;
inline constexpr std::string_view kSpiffeScheme = "spiffe://";

// RFC 4122 Appendix C name space for URLs: 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
inline constexpr std::array<std::uint8_t, 16> kUuidNamespaceUrl = {
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

struct SpiffeId {
    std::string trust_domain;  // e.g. "example.org"
    std::string path;          // "" or "/seg[/seg...]"

    std::string str() const { return std::string(kSpiffeScheme) + trust_domain + path; }
    bool operator==(const SpiffeId&) const = default;
};

// Each *_error function returns what is wrong (a sentence fragment without the value), or
// nullopt when the input is valid.

// Trust domain: lowercase letters, digits, '.', '-', '_'; not empty.
std::optional<std::string> trust_domain_error(std::string_view trust_domain);

// SPIFFE path as it appears in an ID: "/seg/seg"; segments of letters, digits, '.', '-', '_';
// no empty, '.' or '..' segment; no trailing '/'. The empty path is valid (the trust domain's ID).
std::optional<std::string> path_error(std::string_view path);

// A workload ID as written in policies: the path under the trust domain WITHOUT the leading '/'
// ("ai-agent", "team/ai-agent"). Must not be empty.
std::optional<std::string> workload_id_error(std::string_view workload_id);

// Parses "spiffe://td/path"; rejects anything the SPIFFE ID standard rejects (including ports,
// user info, query, fragment, percent-encoding) and IDs longer than kMaxSpiffeIdBytes.
Result<SpiffeId> parse_spiffe_id(std::string_view id);

// spiffe://<trust_domain>/<workload_id>, validated, including the total length.
Result<SpiffeId> spiffe_id_for_workload(std::string_view trust_domain, std::string_view workload_id);

// RFC 4122 name-based UUID, version 5 (SHA-1), lowercase "8-4-4-4-12" form.
Result<std::string> uuid_v5(const std::array<std::uint8_t, 16>& name_space, std::string_view name);

// The stable directory name of a workload under the delivery root: UUIDv5(URL name space, id.str()).
Result<std::string> workload_uuid(const SpiffeId& id);

}  // namespace credgate::spiffe
