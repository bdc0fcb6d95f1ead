// SPDX-License-Identifier: Apache-2.0
// Single-value rules of the policy language (selector values, durations, URLs, names, paths) and
// the YAML spelling of the model's enums. Plain strings in, a reason out.
#pragma once

#include "policy/model.hpp"

#include "credgate_abi.h"  // bpf/include: the kernel rule format's limits

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace credgate::policy {

inline constexpr std::size_t kMaxCommBytes = CREDGATE_COMM_LEN - 1;  // TASK_COMM_LEN - 1
inline constexpr std::size_t kMaxFileNameBytes = 255;   // NAME_MAX
inline constexpr std::size_t kMaxObjectNameBytes = 253;
inline constexpr std::size_t kMaxUnitNameBytes = 255;   // systemd UNIT_NAME_MAX - 1
inline constexpr std::size_t kMaxUserNameBytes = 32;
inline constexpr unsigned long long kMaxId = 4294967294ULL;  // (uid_t)-1 means "no id"
// Limits of the kernel rule format, taken from the ABI header in every build (with or without BPF):
// a policy beyond them could not be enforced, so it is invalid rather than failing later when the
// rules are compiled.
inline constexpr std::size_t kMaxSelectorAlternatives = CREDGATE_MAX_ALTERNATIVES;
inline constexpr std::size_t kMaxBindings = CREDGATE_MAX_BINDINGS;

// YAML spellings.
std::string_view to_string(SelectorKey key);
std::optional<SelectorKey> selector_key_from_string(std::string_view name);
// Every selector key's spelling, in declaration order: "process:path, process:sha256, ...".
std::string selector_key_list();
// Strong keys name the program, who runs it or where it runs; process:name (the comm) is weak:
// any process can set its own.
bool is_strong(SelectorKey key);
// The strong keys' spellings, in declaration order: "process:path, process:sha256, ...".
std::string strong_selector_key_list();
std::string_view to_string(OutputFormat f);
std::optional<OutputFormat> output_format_from_string(std::string_view s);
std::string_view to_string(SigningAlgorithm a);
std::optional<SigningAlgorithm> signing_algorithm_from_string(std::string_view s);
std::string_view to_string(DeliveryBackend b);
std::optional<DeliveryBackend> delivery_backend_from_string(std::string_view s);
std::string_view to_string(EnforcementMode m);
std::optional<EnforcementMode> enforcement_mode_from_string(std::string_view s);

// "90s", "15m", "1h", "1h30m", "2h15m10s": one or more <digits><s|m|h> groups, units in
// decreasing order, each at most once. nullopt when malformed or absurdly large.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::seconds d);

// Each returns what is wrong with the value, or nullopt when it is valid.
std::optional<std::string> selector_value_error(SelectorKey key, std::string_view value);
// URLs are parsed by common/url.hpp; these add what the policy language asks of them. Messages start
// with the quoted URL.
std::optional<std::string> http_url_error(std::string_view url);       // http(s)://host[:port][/path]
std::optional<std::string> vault_address_error(std::string_view url);  // http(s)://host[:port][/]
std::optional<std::string> file_name_error(std::string_view name);     // one directory entry, no escape
std::optional<std::string> object_name_error(std::string_view name);   // metadata.name
std::optional<std::string> absolute_path_error(std::string_view path); // normalized absolute path
std::optional<std::string> listen_address_error(std::string_view host_port);  // host:port, [v6]:port

}  // namespace credgate::policy
