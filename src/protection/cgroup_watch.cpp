// SPDX-License-Identifier: Apache-2.0
// CgroupWatch: one inotify descriptor on the daemon's loop. Only directories where the system
// manager's units can be (the root and slices, reached through slices) and the ancestors of
// cgroup:path selectors are watched; a user's delegated subtree is never entered.
#include "protection/cgroup_watch.hpp"

#include "common/log.hpp"
#include "identity/host_resolver.hpp"
#include "policy/values.hpp"
#include "runtime/event_loop.hpp"

#include <fmt/format.h>

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

namespace credgate::protection {
namespace {

constexpr const char* kComponent = "protection";
constexpr uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW;
constexpr size_t kEventBuffer = 64 * 1024;

std::string baseline_key(const WatchedCgroup& s) { return fmt::format("{} {}", policy::to_string(s.key), s.value); }

// A cgroup:path value as a path relative to the root ("/a/b" -> "a/b").
std::string relative(const std::string& path) {
    std::string rel = path;
    while (!rel.empty() && rel.front() == '/') rel.erase(rel.begin());
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    return rel;
}

std::string join(const std::string& dir, const std::string& name) { return dir.empty() ? name : dir + "/" + name; }

bool is_slice(const std::string& name) { return name.ends_with(".slice"); }

std::string identities_text(const WatchedCgroup& s) {
    std::vector<std::string> quoted;
    for (const auto& i : s.identities) quoted.push_back("'" + i + "'");
    return fmt::format("WorkloadIdentity {}", fmt::join(quoted, ", "));
}

}  // namespace

std::vector<WatchedCgroup> watched_cgroups(const std::vector<policy::BindingDefinition>& bindings) {
    std::map<std::pair<policy::SelectorKey, std::string>, std::set<std::string>> found;
    for (const auto& b : bindings)
        for (const auto& alternative : b.identity.selectors)
            for (const auto& term : alternative.terms)
                if (term.key == policy::SelectorKey::systemd_unit || term.key == policy::SelectorKey::cgroup_path)
                    for (const auto& v : term.values) found[{term.key, v}].insert(b.identity.meta.name);
    std::vector<WatchedCgroup> out;
    for (auto& [k, names] : found) out.push_back({k.first, k.second, {names.begin(), names.end()}});
    return out;
}

namespace {

// "systemd:unit 'agent.service' started", "cgroup:path '/app' disappeared", ...
std::string what_happened(const CgroupChange& c) {
    const bool unit = c.selector.key == policy::SelectorKey::systemd_unit;
    const char* verb = !c.before.id ? (unit ? "started" : "appeared")
                       : !c.after.id ? (unit ? "stopped" : "disappeared")
                                     : (unit ? "restarted" : "was re-created");
    return fmt::format("{} '{}' {}", policy::to_string(c.selector.key), c.selector.value, verb);
}

}  // namespace

std::string describe(const CgroupChange& c) {
    const bool unit = c.selector.key == policy::SelectorKey::systemd_unit;
    const std::string who = identities_text(c.selector);
    if (!c.before.id && c.after.id)
        return fmt::format("{} (cgroup '{}', id {}): the rules of {} follow it", what_happened(c), c.after.path,
                           *c.after.id, who);
    if (c.before.id && !c.after.id)
        return fmt::format("{} (cgroup id {} is gone): {} matches no process through it until it {}", what_happened(c),
                           *c.before.id, who, unit ? "starts again" : "reappears");
    return fmt::format("{} (cgroup '{}', id {} -> {}): the rules of {} follow it", what_happened(c), c.after.path,
                       c.before.id.value_or(0), c.after.id.value_or(0), who);
}

struct CgroupWatch::Impl {
    Impl(runtime::EventLoop& l, Clock& c, CgroupWatchOptions o, Apply a)
        : loop(l), clock(c), options(std::move(o)), apply(std::move(a)), timer(c.make_timer()) {}
    ~Impl() {
        readable.reset();
        if (fd >= 0) ::close(fd);
    }

    runtime::EventLoop& loop;
    Clock& clock;
    CgroupWatchOptions options;
    Apply apply;
    int fd = -1;
    std::unique_ptr<runtime::FdWatch> readable;
    std::unique_ptr<Timer> timer;
    bool armed = false;
    std::map<int, std::string> dirs;  // watch descriptor -> directory relative to the root ("" = root)
    std::vector<WatchedCgroup> selectors;
    CgroupBaseline baseline;
    std::set<std::string> unit_names;    // cgroup directory names of the followed units
    std::vector<std::string> paths;      // followed cgroup:path values, relative
    bool limit_logged = false;
    bool failing = false;                // an apply failed; logged once until one succeeds

    CgroupBaseline resolve(const std::vector<WatchedCgroup>& list) const {
        identity::SystemResolver resolver(options.cgroup_root);
        CgroupBaseline out;
        for (const auto& s : list) {
            CgroupResolution r;
            if (s.key == policy::SelectorKey::systemd_unit) {
                if (auto found = resolver.unit_cgroup(s.value)) {
                    r.id = found->id;
                    r.path = found->path;
                }
            } else if (auto id = resolver.cgroup(s.value)) {
                r.id = *id;
                r.path = relative(s.value);
            }
            out[baseline_key(s)] = std::move(r);
        }
        return out;
    }

    // The directories to watch: the root and every slice reached through slices (where the system
    // manager's units live), and every existing ancestor of a cgroup:path selector. One more than
    // the limit at most, so that going over it can be told.
    std::vector<std::string> wanted() const {
        std::vector<std::string> out{""};
        if (selectors.empty()) return out;
        namespace fs = std::filesystem;
        std::vector<std::pair<std::string, int>> stack{{"", 0}};
        while (!stack.empty() && out.size() <= kMaxWatchedCgroupDirectories) {
            auto [rel, depth] = stack.back();
            stack.pop_back();
            if (depth >= identity::kMaxUnitSearchDepth) continue;
            std::error_code ec;
            const std::string abs = rel.empty() ? options.cgroup_root : options.cgroup_root + "/" + rel;
            for (fs::directory_iterator it(abs, ec), end; !ec && it != end; it.increment(ec)) {
                const std::string name = it->path().filename().string();
                std::error_code st;
                if (!is_slice(name) || !fs::is_directory(it->symlink_status(st))) continue;
                out.push_back(join(rel, name));
                stack.emplace_back(join(rel, name), depth + 1);
            }
        }
        for (const auto& p : paths) {
            std::string ancestor;
            for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
                ancestor = p.substr(0, slash);
                std::error_code ec;
                if (!std::filesystem::is_directory(options.cgroup_root + "/" + ancestor, ec)) break;
                out.push_back(ancestor);
            }
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    // Adds a watch on every wanted directory (the kernel hands back the same descriptor for one
    // already watched) and drops the ones no longer wanted.
    void sync_watches() {
        std::vector<std::string> want = wanted();
        if (want.size() > kMaxWatchedCgroupDirectories) {
            if (!limit_logged)
                log::error(kComponent,
                           "Failed to watch every slice under '{}': more than {} directories; units in the others "
                           "are followed only on reload",
                           options.cgroup_root, kMaxWatchedCgroupDirectories);
            limit_logged = true;
            want.resize(kMaxWatchedCgroupDirectories);
        }
        std::map<int, std::string> next;
        for (const auto& rel : want) {
            const std::string abs = rel.empty() ? options.cgroup_root : options.cgroup_root + "/" + rel;
            const int wd = ::inotify_add_watch(fd, abs.c_str(), kWatchMask);
            if (wd >= 0) next[wd] = rel;
            // ENOENT: removed since it was listed; its parent's event schedules another sync.
        }
        for (const auto& [wd, rel] : dirs)
            if (!next.contains(wd)) ::inotify_rm_watch(fd, wd);
        dirs = std::move(next);
    }

    bool relevant(const std::string& rel, const std::string& name) const {
        if (is_slice(name) || unit_names.contains(name)) return true;
        return std::any_of(paths.begin(), paths.end(),
                           [&](const std::string& p) { return p == rel || p.starts_with(rel + "/"); });
    }

    void on_readable() {
        alignas(struct inotify_event) char buf[kEventBuffer];
        bool changed = false;
        while (true) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;  // EAGAIN: drained
            for (ssize_t off = 0; off < n;) {
                const auto* e = reinterpret_cast<const struct inotify_event*>(buf + off);
                off += static_cast<ssize_t>(sizeof(struct inotify_event) + e->len);
                if (e->mask & IN_Q_OVERFLOW) {
                    changed = true;
                    continue;
                }
                auto it = dirs.find(e->wd);
                if (it == dirs.end()) continue;
                if (e->mask & IN_IGNORED) {  // the directory itself is gone
                    dirs.erase(it);
                    continue;
                }
                if (!(e->mask & IN_ISDIR) || e->len == 0) continue;
                const std::string name = e->name;
                if (relevant(join(it->second, name), name)) changed = true;
            }
        }
        if (changed) schedule(options.debounce);
    }

    void schedule(Duration after) {
        if (armed) return;
        armed = true;
        timer->arm(clock.now() + after, [this] {
            armed = false;
            recompile();
        });
    }

    void recompile() {
        sync_watches();  // first: a change after this point is an event
        CgroupBaseline now = resolve(selectors);
        std::vector<CgroupChange> changes;
        for (const auto& s : selectors) {
            const auto& before = baseline[baseline_key(s)];
            const auto& after = now[baseline_key(s)];
            if (before.id != after.id) changes.push_back({s, before, after});
        }
        if (changes.empty()) {
            failing = false;  // back where the applied rules are
            return;
        }
        if (auto r = apply(changes); !r) {
            if (!failing)
                log::error(kComponent, "Failed to apply the rules of {} after {}: {}; the previous rules stay, "
                                       "retrying every {} ms",
                           identities_text(changes.front().selector), what_happened(changes.front()),
                           r.error().message, options.retry.count());
            failing = true;
            schedule(options.retry);
            return;
        }
        if (failing) log::notice(kComponent, "Rules applied again after earlier failures");
        failing = false;
        for (const auto& c : changes) log::notice(kComponent, "{}", describe(c));
        baseline = std::move(now);
    }
};

CgroupWatch::CgroupWatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CgroupWatch::~CgroupWatch() = default;

Result<std::unique_ptr<CgroupWatch>> CgroupWatch::create(runtime::EventLoop& loop, Clock& clock,
                                                         CgroupWatchOptions options, Apply apply) {
    auto impl = std::make_unique<Impl>(loop, clock, std::move(options), std::move(apply));
    impl->fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (impl->fd < 0)
        return fail(ErrorKind::unsupported, fmt::format("inotify_init1: {}", std::strerror(errno)));
    const std::string& root = impl->options.cgroup_root;
    const int wd = ::inotify_add_watch(impl->fd, root.c_str(), kWatchMask);
    if (wd < 0)
        return fail(ErrorKind::unsupported, fmt::format("cannot watch '{}': {}", root, std::strerror(errno)));
    impl->dirs[wd] = "";
    Impl* raw = impl.get();
    impl->readable = loop.watch_readable(impl->fd, [raw] { raw->on_readable(); });
    return std::unique_ptr<CgroupWatch>(new CgroupWatch(std::move(impl)));
}

CgroupBaseline CgroupWatch::resolve(const std::vector<WatchedCgroup>& selectors) const {
    return impl_->resolve(selectors);
}

void CgroupWatch::follow(std::vector<WatchedCgroup> selectors, CgroupBaseline baseline) {
    auto& i = *impl_;
    i.selectors = std::move(selectors);
    i.baseline = std::move(baseline);
    i.unit_names.clear();
    i.paths.clear();
    for (const auto& s : i.selectors) {
        if (s.key == policy::SelectorKey::systemd_unit) i.unit_names.insert(identity::unit_cgroup_name(s.value));
        else i.paths.push_back(relative(s.value));
    }
    i.sync_watches();
    if (!i.selectors.empty())
        log::info(kComponent, "Following {} systemd:unit and cgroup:path value(s) as they start and stop ({} "
                              "directories watched under '{}')",
                  i.selectors.size(), i.dirs.size(), i.options.cgroup_root);
    // Whatever changed between the baseline and these watches sent no event: compare now.
    CgroupBaseline now = i.resolve(i.selectors);
    for (const auto& s : i.selectors)
        if (now[baseline_key(s)].id != i.baseline[baseline_key(s)].id) {
            i.schedule(i.options.debounce);
            break;
        }
}

bool CgroupWatch::pending() const { return impl_->armed; }
size_t CgroupWatch::watched_directories() const { return impl_->dirs.size(); }

}  // namespace credgate::protection
