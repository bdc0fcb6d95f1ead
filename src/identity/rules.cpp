// SPDX-License-Identifier: Apache-2.0
// Selector compilation to kernel rules, and the resolver that reads the host (stat, passwd, cgroup2).
#include "identity/rules.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

namespace credgate::identity {

namespace {

constexpr size_t kHashChunk = 64 * 1024;

const char* key_name(policy::SelectorKey key) {
    switch (key) {
        case policy::SelectorKey::process_path: return "process:path";
        case policy::SelectorKey::process_sha256: return "process:sha256";
        case policy::SelectorKey::process_uid: return "process:uid";
        case policy::SelectorKey::process_gid: return "process:gid";
        case policy::SelectorKey::process_user: return "process:user";
        case policy::SelectorKey::process_group: return "process:group";
        case policy::SelectorKey::systemd_unit: return "systemd:unit";
        case policy::SelectorKey::cgroup_path: return "cgroup:path";
        case policy::SelectorKey::process_name: return "process:name";
    }
    return "?";
}

Result<uint32_t> parse_id(const std::string& value, const char* key) {
    uint32_t id = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty())
        return fail(ErrorKind::invalid_argument, fmt::format("{}: '{}' is not a numeric id", key, value));
    return id;
}

// AND of two constraints on one fact: a value must be in both sets.
template <typename T>
std::vector<T> intersect(std::optional<std::vector<T>>& current, std::vector<T> next) {
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    if (!current) return next;
    std::vector<T> out;
    std::set_intersection(current->begin(), current->end(), next.begin(), next.end(), std::back_inserter(out));
    return out;
}

Comm to_comm(const std::string& name) {
    Comm c{};
    // The kernel keeps TASK_COMM_LEN - 1 bytes of the name.
    std::copy_n(name.begin(), std::min(name.size(), kCommLength - 1), c.begin());
    return c;
}

// Why the cgroup at `rel` (a directory named like a unit) is not the system manager's unit, or
// nullopt when it is: every directory before it must be a *.slice, every directory on the path
// owned by root, and none above it writable by group or others (anyone could create cgroups there).
std::optional<std::string> foreign_unit_reason(const std::string& root, const std::string& rel) {
    std::vector<std::string> parts;
    for (size_t start = 0; start <= rel.size();) {
        const size_t slash = std::min(rel.find('/', start), rel.size());
        parts.push_back(rel.substr(start, slash - start));
        start = slash + 1;
    }
    std::string dir = root, shown;
    for (size_t i = 0; i <= parts.size(); ++i) {
        if (i > 0) {
            dir += "/" + parts[i - 1];
            shown += (shown.empty() ? "" : "/") + parts[i - 1];
        }
        const bool is_unit = i == parts.size();
        const std::string name = shown.empty() ? fmt::format("the cgroup root '{}'", root) : "'" + shown + "'";
        if (i > 0 && !is_unit && !parts[i - 1].ends_with(".slice"))
            return fmt::format("{} on its path is not a slice: every cgroup below a unit belongs to that unit "
                               "(a user's delegated subtree, user@UID.service, is one)",
                               name);
        struct stat st{};
        if (::lstat(dir.c_str(), &st) != 0) return fmt::format("cannot stat {}: {}", name, std::strerror(errno));
        if (!S_ISDIR(st.st_mode)) return fmt::format("{} is not a directory", name);
        if (st.st_uid != 0)
            return fmt::format("{} is owned by uid {}, not root: a delegated subtree cannot stand in for a system unit",
                               name, st.st_uid);
        if (!is_unit && (st.st_mode & (S_IWGRP | S_IWOTH)))
            return fmt::format("{} is writable by group or others (mode {:04o}): anyone could have created it", name,
                               st.st_mode & 07777);
    }
    return std::nullopt;
}

}  // namespace

uint64_t kernel_dev(uint64_t st_dev) noexcept {
    return (static_cast<uint64_t>(major(st_dev)) << 20) | static_cast<uint64_t>(minor(st_dev));
}

Result<FileKey> SystemResolver::file(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        return fail(ErrorKind::not_found, fmt::format("cannot stat '{}': {}", path, std::strerror(errno)));
    return FileKey{kernel_dev(st.st_dev), st.st_ino};
}

Result<std::string> SystemResolver::sha256_hex(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorKind::not_found, fmt::format("cannot open '{}' to hash it", path));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx);
        return fail(ErrorKind::internal, "cannot initialise SHA-256");
    }
    std::vector<char> buf(kHashChunk);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
    }
    const bool read_ok = in.eof();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (!read_ok) return fail(ErrorKind::internal, fmt::format("cannot read '{}' to hash it", path));
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

Result<uint32_t> SystemResolver::user(const std::string& name) {
    struct passwd pw{}, *out = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &out) != 0 || !out)
        return fail(ErrorKind::not_found, fmt::format("no user '{}'", name));
    return out->pw_uid;
}

Result<uint32_t> SystemResolver::group(const std::string& name) {
    struct group gr{}, *out = nullptr;
    std::vector<char> buf(16384);
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &out) != 0 || !out)
        return fail(ErrorKind::not_found, fmt::format("no group '{}'", name));
    return out->gr_gid;
}

Result<uint64_t> SystemResolver::cgroup(const std::string& path) {
    std::string rel = path;
    while (!rel.empty() && rel.front() == '/') rel.erase(rel.begin());
    const std::string full = rel.empty() ? cgroup_root_ : cgroup_root_ + "/" + rel;
    struct stat st{};
    if (::stat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(ErrorKind::not_found, fmt::format("no cgroup '{}' ({})", path, full));
    // On cgroup2 the inode number is the kernel's cgroup id.
    return static_cast<uint64_t>(st.st_ino);
}

std::string unit_cgroup_name(const std::string& unit) {
    return unit.find('.') == std::string::npos ? unit + ".service" : unit;
}

Result<UnitCgroup> SystemResolver::unit_cgroup(const std::string& unit_in) {
    const std::string unit = unit_cgroup_name(unit_in);
    namespace fs = std::filesystem;
    // Every directory named like the unit, found by walking the whole tree: the ones that are not the
    // system manager's are named in the warning, so an operator sees an attempt to stand in for it.
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(cgroup_root_, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code st_ec;
        if (!fs::is_directory(it->symlink_status(st_ec))) continue;
        if (it.depth() >= kMaxUnitSearchDepth) it.disable_recursion_pending();
        if (it->path().filename() == unit) found.push_back(it->path().lexically_relative(cgroup_root_).string());
    }
    if (ec)
        return fail(ErrorKind::internal, fmt::format("cannot search '{}' for unit '{}': {}", cgroup_root_, unit, ec.message()));

    const std::string preferred = "system.slice/" + unit;
    std::vector<std::string> candidates;
    UnitCgroup out;
    for (const auto& rel : found) {
        if (auto why = foreign_unit_reason(cgroup_root_, rel)) out.passed_over.push_back(fmt::format("'{}': {}", rel, *why));
        else candidates.push_back(rel);
    }
    if (candidates.empty()) {
        std::string message = fmt::format("no unit '{}' of the system manager is running under '{}'", unit, cgroup_root_);
        if (!out.passed_over.empty())
            message += fmt::format(" (passed over {})", fmt::join(out.passed_over, "; "));
        return fail(ErrorKind::not_found, std::move(message));
    }
    auto components = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
    std::sort(candidates.begin(), candidates.end(), [&](const std::string& a, const std::string& b) {
        if ((a == preferred) != (b == preferred)) return a == preferred;
        if (components(a) != components(b)) return components(a) < components(b);
        return a < b;
    });
    for (size_t i = 1; i < candidates.size(); ++i)
        out.passed_over.push_back(fmt::format("'{}': another root-owned cgroup named like the unit; '{}' is used",
                                              candidates[i], candidates[0]));
    auto id = cgroup(candidates[0]);
    if (!id) return fail(id.error());
    out.id = *id;
    out.path = candidates[0];
    return out;
}

Result<CompiledIdentity> compile_identity(const policy::WorkloadIdentity& identity, Resolver& resolver,
                                          const std::vector<std::string>& sha256_candidates) {
    CompiledIdentity out;
    out.workload_id = identity.workload_id;
    if (identity.selectors.size() > kMaxAlternatives)
        return fail(ErrorKind::invalid_argument,
                    fmt::format("{}: {} selector alternatives, at most {} are supported", identity.meta.name,
                                identity.selectors.size(), kMaxAlternatives));
    std::set<FileKey> trusted;
    auto warn = [&](std::string message) { out.warnings.push_back(fmt::format("{}: {}", identity.meta.name, message)); };

    for (size_t a = 0; a < identity.selectors.size(); ++a) {
        const auto& alternative = identity.selectors[a];
        if (alternative.terms.empty())
            return fail(ErrorKind::invalid_argument,
                        fmt::format("{}: selector alternative {} has no keys", identity.meta.name, a + 1));
        std::optional<std::vector<FileKey>> exes;
        std::optional<std::vector<uint32_t>> uids, gids;
        std::optional<std::vector<uint64_t>> cgroups;
        std::optional<std::vector<Comm>> comms;
        bool strong = false, unit = false, cgroup_path = false;
        std::vector<std::string> alt_paths;

        for (const auto& term : alternative.terms) {
            const char* key = key_name(term.key);
            switch (term.key) {
                case policy::SelectorKey::process_path: {
                    std::vector<FileKey> keys;
                    for (const auto& v : term.values) {
                        alt_paths.push_back(v);
                        if (auto k = resolver.file(v)) keys.push_back(*k);
                        else warn(fmt::format("{} '{}' matches nothing: {}", key, v, k.error().message));
                    }
                    exes = intersect(exes, std::move(keys));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_sha256: {
                    std::vector<FileKey> keys;
                    std::vector<std::string> candidates = sha256_candidates;
                    for (const auto& alt : identity.selectors)
                        for (const auto& t : alt.terms)
                            if (t.key == policy::SelectorKey::process_path)
                                candidates.insert(candidates.end(), t.values.begin(), t.values.end());
                    for (const auto& v : term.values) {
                        std::string want = v;
                        std::transform(want.begin(), want.end(), want.begin(), ::tolower);
                        if (want.starts_with("sha256:")) want.erase(0, 7);
                        bool found = false;
                        for (const auto& c : candidates) {
                            auto hash = resolver.sha256_hex(c);
                            if (!hash || *hash != want) continue;
                            if (auto k = resolver.file(c)) { keys.push_back(*k); found = true; }
                        }
                        if (!found) warn(fmt::format("{} '{}' matches no known executable", key, v));
                    }
                    exes = intersect(exes, std::move(keys));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_uid:
                case policy::SelectorKey::process_user: {
                    std::vector<uint32_t> ids;
                    for (const auto& v : term.values) {
                        if (term.key == policy::SelectorKey::process_uid) {
                            auto id = parse_id(v, key);
                            if (!id) return fail(id.error());
                            ids.push_back(*id);
                        } else if (auto id = resolver.user(v)) {
                            ids.push_back(*id);
                        } else {
                            warn(fmt::format("{} '{}' matches nothing: {}", key, v, id.error().message));
                        }
                    }
                    uids = intersect(uids, std::move(ids));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_gid:
                case policy::SelectorKey::process_group: {
                    std::vector<uint32_t> ids;
                    for (const auto& v : term.values) {
                        if (term.key == policy::SelectorKey::process_gid) {
                            auto id = parse_id(v, key);
                            if (!id) return fail(id.error());
                            ids.push_back(*id);
                        } else if (auto id = resolver.group(v)) {
                            ids.push_back(*id);
                        } else {
                            warn(fmt::format("{} '{}' matches nothing: {}", key, v, id.error().message));
                        }
                    }
                    gids = intersect(gids, std::move(ids));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::systemd_unit:
                case policy::SelectorKey::cgroup_path: {
                    std::vector<uint64_t> ids;
                    const bool is_unit = term.key == policy::SelectorKey::systemd_unit;
                    for (const auto& v : term.values) {
                        if (!is_unit) {
                            if (auto id = resolver.cgroup(v)) ids.push_back(*id);
                            else warn(fmt::format("{} '{}' matches nothing now: {}", key, v, id.error().message));
                            continue;
                        }
                        auto found = resolver.unit_cgroup(v);
                        if (!found) {
                            warn(fmt::format("{} '{}' matches nothing now: {}", key, v, found.error().message));
                            continue;
                        }
                        ids.push_back(found->id);
                        for (const auto& skipped : found->passed_over)
                            warn(fmt::format("{} '{}' resolves to '{}'; passed over {}", key, v, found->path, skipped));
                    }
                    (is_unit ? unit : cgroup_path) = true;
                    if (unit && cgroup_path)
                        return fail(ErrorKind::invalid_argument,
                                    fmt::format("{}: systemd:unit and cgroup:path in one alternative are not "
                                                "supported; use one of them", identity.meta.name));
                    cgroups = intersect(cgroups, std::move(ids));
                    strong = true;
                    break;
                }
                case policy::SelectorKey::process_name: {
                    std::vector<Comm> names;
                    for (const auto& v : term.values) {
                        if (v.size() >= kCommLength)
                            warn(fmt::format("{} '{}' is longer than the kernel keeps; matching its first {} bytes",
                                             key, v, kCommLength - 1));
                        names.push_back(to_comm(v));
                    }
                    comms = intersect(comms, std::move(names));
                    break;
                }
            }
        }
        if (!strong) {
            if (!identity.allow_weak_selectors)
                return fail(ErrorKind::invalid_argument,
                            fmt::format("{}: selector alternative {} uses only process:name, which any process can "
                                        "set; AND it with a strong key or set allowWeakSelectors",
                                        identity.meta.name, a + 1));
            warn(fmt::format("selector alternative {} uses only process:name: any process can claim it", a + 1));
        }

        CompiledAlternative alt;
        if (exes) { alt.fact_mask |= fact_bit(Fact::exe); alt.exes = *exes; trusted.insert(exes->begin(), exes->end()); }
        if (uids) { alt.fact_mask |= fact_bit(Fact::uid); alt.uids = *uids; }
        if (gids) { alt.fact_mask |= fact_bit(Fact::gid); alt.gids = *gids; }
        if (cgroups) { alt.fact_mask |= fact_bit(Fact::cgroup); alt.cgroups = *cgroups; }
        if (comms) { alt.fact_mask |= fact_bit(Fact::comm); alt.comms = *comms; }
        out.alternatives.push_back(std::move(alt));
    }
    out.trusted_execs.assign(trusted.begin(), trusted.end());
    return out;
}

}  // namespace credgate::identity
