// SPDX-License-Identifier: Apache-2.0
// Single-value rules of the policy language and the YAML spelling of enums.
#include "policy/values.hpp"

#include "common/url.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace credgate::policy {
namespace {

struct SelectorKeyInfo {
    SelectorKey key;
    std::string_view name;
    bool strong;  // names the program, who runs it or where it runs; process:name (comm) anyone can set
};

constexpr std::array<SelectorKeyInfo, 9> kSelectorKeys{{
    {SelectorKey::process_path, "process:path", true},
    {SelectorKey::process_sha256, "process:sha256", true},
    {SelectorKey::process_uid, "process:uid", true},
    {SelectorKey::process_gid, "process:gid", true},
    {SelectorKey::process_user, "process:user", true},
    {SelectorKey::process_group, "process:group", true},
    {SelectorKey::systemd_unit, "systemd:unit", true},
    {SelectorKey::cgroup_path, "cgroup:path", true},
    {SelectorKey::process_name, "process:name", false},
}};

// Unit types a process can run in or be started by; systemd(1) "Unit types".
constexpr std::array<std::string_view, 11> kUnitSuffixes{
    ".service", ".socket", ".device", ".mount", ".automount", ".swap",
    ".target", ".path", ".timer", ".slice", ".scope"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string printable(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return fmt::format("byte 0x{:02x}", u);
    return fmt::format("'{}'", c);
}

std::optional<std::string> unsigned_id_error(std::string_view v, std::string_view what) {
    if (v.empty()) return fmt::format("{} must not be empty", what);
    if (v.size() > 10) return fmt::format("{} must be a non-negative integer no larger than {}", what, kMaxId);
    unsigned long long n = 0;
    for (char c : v) {
        if (!is_digit(c)) return fmt::format("{} must be a non-negative integer, got '{}'", what, v);
        n = n * 10 + static_cast<unsigned long long>(c - '0');
    }
    if (n > kMaxId) return fmt::format("{} must be no larger than {}", what, kMaxId);
    return std::nullopt;
}

std::optional<std::string> account_name_error(std::string_view v, std::string_view what) {
    if (v.empty()) return fmt::format("{} name must not be empty", what);
    if (v.size() > kMaxUserNameBytes) return fmt::format("{} name is longer than {} bytes", what, kMaxUserNameBytes);
    if (!(is_alpha(v[0]) || v[0] == '_'))
        return fmt::format("{} name must start with a letter or '_' (use process:{} for numeric ids)", what,
                           what == "user" ? "uid" : "gid");
    for (std::size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        if (is_alnum(c) || c == '_' || c == '-' || c == '.') continue;
        if (c == '$' && i + 1 == v.size()) continue;
        return fmt::format("{} name contains {}", what, printable(c));
    }
    return std::nullopt;
}

std::optional<std::string> unit_name_error(std::string_view v) {
    if (v.empty()) return "unit name must not be empty";
    if (v.size() > kMaxUnitNameBytes) return fmt::format("unit name is longer than {} bytes", kMaxUnitNameBytes);
    std::string_view suffix;
    for (auto s : kUnitSuffixes)
        if (v.size() > s.size() && v.ends_with(s)) suffix = s;
    if (suffix.empty())
        return fmt::format("'{}' is not a unit name: it must end in a unit type such as .service, .scope or .slice", v);
    std::string_view stem = v.substr(0, v.size() - suffix.size());
    for (char c : stem)
        if (!(is_alnum(c) || c == ':' || c == '_' || c == '.' || c == '-' || c == '@' || c == '\\'))
            return fmt::format("unit name contains {}", printable(c));
    if (stem.ends_with('@'))
        return fmt::format("'{}' is a template; name an instance (e.g. '{}instance{}')", v, stem, suffix);
    return std::nullopt;
}

}  // namespace

std::string_view to_string(SelectorKey key) {
    for (const auto& k : kSelectorKeys)
        if (k.key == key) return k.name;
    return "?";
}

std::optional<SelectorKey> selector_key_from_string(std::string_view name) {
    for (const auto& k : kSelectorKeys)
        if (k.name == name) return k.key;
    return std::nullopt;
}

bool is_strong(SelectorKey key) {
    for (const auto& k : kSelectorKeys)
        if (k.key == key) return k.strong;
    return false;
}

std::string selector_key_list() {
    std::string out;
    for (const auto& k : kSelectorKeys) out += fmt::format("{}{}", out.empty() ? "" : ", ", k.name);
    return out;
}

std::string strong_selector_key_list() {
    std::string out;
    for (const auto& k : kSelectorKeys)
        if (k.strong) out += fmt::format("{}{}", out.empty() ? "" : ", ", k.name);
    return out;
}

std::string_view to_string(OutputFormat f) {
    switch (f) {
        case OutputFormat::json: return "json";
        case OutputFormat::raw: return "raw";
        case OutputFormat::env: return "env";
    }
    return "?";
}

std::optional<OutputFormat> output_format_from_string(std::string_view s) {
    for (auto f : {OutputFormat::json, OutputFormat::raw, OutputFormat::env})
        if (to_string(f) == s) return f;
    return std::nullopt;
}

std::string_view to_string(SigningAlgorithm a) {
    switch (a) {
        case SigningAlgorithm::es256: return "ES256";
        case SigningAlgorithm::rs256: return "RS256";
        case SigningAlgorithm::eddsa: return "EdDSA";
    }
    return "?";
}

std::optional<SigningAlgorithm> signing_algorithm_from_string(std::string_view s) {
    for (auto a : {SigningAlgorithm::es256, SigningAlgorithm::rs256, SigningAlgorithm::eddsa})
        if (to_string(a) == s) return a;
    return std::nullopt;
}

std::string_view to_string(DeliveryBackend b) {
    switch (b) {
        case DeliveryBackend::auto_select: return "auto";
        case DeliveryBackend::sysfs: return "sysfs";
        case DeliveryBackend::file: return "file";
    }
    return "?";
}

std::optional<DeliveryBackend> delivery_backend_from_string(std::string_view s) {
    for (auto b : {DeliveryBackend::auto_select, DeliveryBackend::sysfs, DeliveryBackend::file})
        if (to_string(b) == s) return b;
    return std::nullopt;
}

std::string_view to_string(EnforcementMode m) {
    switch (m) {
        case EnforcementMode::enforce: return "enforce";
        case EnforcementMode::audit: return "audit";
    }
    return "?";
}

std::optional<EnforcementMode> enforcement_mode_from_string(std::string_view s) {
    for (auto m : {EnforcementMode::enforce, EnforcementMode::audit})
        if (to_string(m) == s) return m;
    return std::nullopt;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    constexpr long long kMaxSeconds = 100LL * 365 * 24 * 3600;
    if (text.empty()) return std::nullopt;
    long long total = 0;
    int last_rank = 4;  // h=3, m=2, s=1; each unit once, in decreasing order
    std::size_t i = 0;
    while (i < text.size()) {
        long long n = 0;
        std::size_t digits = 0;
        while (i < text.size() && is_digit(text[i])) {
            if (++digits > 12) return std::nullopt;
            n = n * 10 + (text[i] - '0');
            ++i;
        }
        if (digits == 0 || i == text.size()) return std::nullopt;
        int rank = 0;
        long long scale = 0;
        switch (text[i]) {
            case 'h': rank = 3; scale = 3600; break;
            case 'm': rank = 2; scale = 60; break;
            case 's': rank = 1; scale = 1; break;
            default: return std::nullopt;
        }
        if (rank >= last_rank) return std::nullopt;
        last_rank = rank;
        ++i;
        total += n * scale;
        if (total > kMaxSeconds) return std::nullopt;
    }
    return std::chrono::seconds{total};
}

std::string format_duration(std::chrono::seconds d) {
    long long s = d.count();
    if (s == 0) return "0s";
    std::string out;
    if (s >= 3600) out += fmt::format("{}h", s / 3600), s %= 3600;
    if (s >= 60) out += fmt::format("{}m", s / 60), s %= 60;
    if (s > 0) out += fmt::format("{}s", s);
    return out;
}

std::optional<std::string> absolute_path_error(std::string_view path) {
    if (path.empty()) return "path must not be empty";
    if (path.find('\0') != std::string_view::npos) return "path must not contain a NUL byte";
    if (path.front() != '/') return fmt::format("'{}' is not an absolute path", path);
    if (path == "/") return std::nullopt;
    if (path.back() == '/') return fmt::format("'{}' must not end with '/'", path);
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        std::string_view seg = path.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..")
            return fmt::format("'{}' is not a normalized path (no '//', '.' or '..' segments)", path);
        start = end + 1;
    }
    return std::nullopt;
}

std::optional<std::string> selector_value_error(SelectorKey key, std::string_view v) {
    switch (key) {
        case SelectorKey::process_path:
            return absolute_path_error(v);
        case SelectorKey::cgroup_path:
            if (auto e = absolute_path_error(v)) return e;
            if (v == "/") return "'/' is the root cgroup, which holds every process; name a narrower cgroup";
            return std::nullopt;
        case SelectorKey::process_sha256:
            if (v.size() != 64) return fmt::format("a SHA-256 digest is 64 hex characters, got {}", v.size());
            for (char c : v)
                if (!is_hex(c)) return fmt::format("a SHA-256 digest is hex, got {}", printable(c));
            return std::nullopt;
        case SelectorKey::process_uid: return unsigned_id_error(v, "uid");
        case SelectorKey::process_gid: return unsigned_id_error(v, "gid");
        case SelectorKey::process_user: return account_name_error(v, "user");
        case SelectorKey::process_group: return account_name_error(v, "group");
        case SelectorKey::systemd_unit: return unit_name_error(v);
        case SelectorKey::process_name:
            if (v.empty()) return "process name must not be empty";
            if (v.size() > kMaxCommBytes)
                return fmt::format("process name '{}' is {} bytes; the kernel keeps at most {} (comm)", v, v.size(),
                                   kMaxCommBytes);
            if (v.find('\0') != std::string_view::npos) return "process name must not contain a NUL byte";
            return std::nullopt;
    }
    return "unknown selector key";
}

std::optional<std::string> listen_address_error(std::string_view hp) {
    auto parsed = parse_host_port(hp, true, true);
    if (!parsed) return parsed.error().message;
    return std::nullopt;
}

std::optional<std::string> http_url_error(std::string_view text) {
    auto url = parse_url(text);
    if (!url) return url.error().message;
    if (url->has_query()) return fmt::format("'{}' must not have a query", text);
    return std::nullopt;
}

std::optional<std::string> vault_address_error(std::string_view text) {
    if (auto e = http_url_error(text)) return e;
    // The client appends /v1/<path>; a path here would be silently dropped or doubled.
    if (parse_url(text)->target != "/")
        return fmt::format("'{}' must be scheme://host[:port] without a path; the API path goes in 'path'", text);
    return std::nullopt;
}

std::optional<std::string> file_name_error(std::string_view name) {
    if (name.empty()) return "file name must not be empty";
    if (name == "." || name == "..") return fmt::format("file name must not be '{}'", name);
    if (name.find('/') != std::string_view::npos)
        return fmt::format("file name '{}' must not contain '/': it names one file in the binding's directory", name);
    if (name.find('\0') != std::string_view::npos) return "file name must not contain a NUL byte";
    if (name.size() > kMaxFileNameBytes) return fmt::format("file name is longer than {} bytes", kMaxFileNameBytes);
    return std::nullopt;
}

std::optional<std::string> object_name_error(std::string_view name) {
    if (name.empty()) return "name must not be empty";
    if (name.size() > kMaxObjectNameBytes) return fmt::format("name is longer than {} bytes", kMaxObjectNameBytes);
    for (char c : name)
        if (!(is_lower(c) || is_digit(c) || c == '-' || c == '.'))
            return fmt::format("name '{}' contains {}; use lowercase letters, digits, '-' and '.'", name, printable(c));
    if (!is_alnum(name.front()) || !is_alnum(name.back()))
        return fmt::format("name '{}' must start and end with a letter or digit", name);
    return std::nullopt;
}

}  // namespace credgate::policy
