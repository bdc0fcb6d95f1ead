// SPDX-License-Identifier: Apache-2.0
// credgate-enforce-test: loads or adopts the enforcement pins, applies rules given on the command line,
// protects files, prints audit lines. VM test scripts run it as "credgated" and then attack the files.
//
//   probe                           print "supported" or "unsupported: <why>"; exit 0 / 1
//   apply [--mode M] [--pin-dir D] [--candidate EXE]... [--dir DIR]... [--spec-file F] SPEC...
//       (--spec-file: more SPECs, one per line, after those on the command line)
//       SPEC = FILE::ALT[||ALT...]   ALT = key=v1,v2[&key=v...]   (binding index = SPEC position)
//       e.g. '/run/c/a::process:path=/tmp/agent&process:uid=1000||systemd:unit=agent.service'
//   audit [--pin-dir D] --count N --timeout-ms T   print up to N audit JSON lines
//       FILE may be '-': rules only (a file published later with `publish`)
//   publish ROOT UUID BINDING INDEX CONTENT   publish CONTENT as ROOT/UUID/crb-BINDING/vault.json with
//       the file backend credgated uses, protected for binding INDEX before it has content; a replaced
//       file is left to the kernel (protected until its inode is freed), as credgated does
//   objects [--pin-dir D]           print every protected inode: "DEV INO binding=B flags=F"
//   hold [--pin-dir D]              adopt, print "ready", sleep until killed (a resident credgated)
//   unload [--pin-dir D]            remove the pins (detaches enforcement)
//   stats [--pin-dir D]             per pinned program "program NAME RUNS RUN_TIME_NS" (the kernel's BPF
//       statistics: kernel.bpf_stats_enabled=1) and per pinned map "map NAME MEMLOCK_BYTES MAX_ENTRIES";
//       bpftool cannot show them to anyone but a registered credgated, which this tool is
#include <bpf/bpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "delivery/file_sink.hpp"
#include "enforce/enforcer.hpp"
#include "identity/compile.hpp"
#include "identity/host_resolver.hpp"
#include "policy/values.hpp"

using namespace credgate;

namespace {

std::vector<std::string> split(const std::string& s, const std::string& sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        size_t pos = s.find(sep, start);
        out.push_back(s.substr(start, pos - start));
        if (pos == std::string::npos) break;
        start = pos + sep.size();
    }
    return out;
}

// The key the programs give PATH's object (credgate.ko's sysfs nodes are keyed on the file system).
Result<identity::FileKey> key_of(const std::string& path) {
    struct stat st {};
    struct statfs fs {};
    if (::stat(path.c_str(), &st) != 0 || ::statfs(path.c_str(), &fs) != 0)
        return fail(ErrorKind::not_found, "cannot stat " + path);
    return enforce::object_key(st.st_dev, st.st_ino, static_cast<uint32_t>(fs.f_type));
}

int die(const std::string& message) {
    std::fprintf(stderr, "credgate-enforce-test: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return die("usage: credgate-enforce-test probe|apply|audit|hold|unload ...");
    const std::string cmd = argv[1];
    enforce::Settings settings;
    std::vector<std::string> candidates, specs, dirs, spec_files;
    int count = 1, timeout_ms = 1000;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
        if (a == "--mode") settings.mode = next() == "audit" ? policy::EnforcementMode::audit : policy::EnforcementMode::enforce;
        else if (a == "--pin-dir") settings.pin_dir = next();
        else if (a == "--candidate") candidates.push_back(next());
        else if (a == "--dir") dirs.push_back(next());
        else if (a == "--count") count = std::stoi(next());
        else if (a == "--timeout-ms") timeout_ms = std::stoi(next());
        else if (a == "--spec-file") spec_files.push_back(next());
        else specs.push_back(a);
    }

    for (const auto& path : spec_files) {
        std::FILE* f = std::fopen(path.c_str(), "r");
        if (!f) return die("cannot open " + path);
        char* line = nullptr;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, f)) > 0) {
            std::string spec(line, static_cast<size_t>(len));
            while (!spec.empty() && (spec.back() == '\n' || spec.back() == '\r')) spec.pop_back();
            if (!spec.empty()) specs.push_back(spec);
        }
        std::free(line);
        std::fclose(f);
    }

    if (cmd == "probe") {
        const auto& s = enforce::probe();
        if (s.supported) { std::puts("supported"); return 0; }
        std::printf("unsupported: %s\n", s.message.c_str());
        return 1;
    }

    if (cmd == "unload" && access(settings.pin_dir.c_str(), F_OK) != 0) return 0;  // nothing pinned
    auto enforcer = enforce::Enforcer::create(settings);
    if (!enforcer) return die(enforcer.error().message);

    if (cmd == "stats") {
        auto each_pin = [](const std::string& dir, auto&& fn) {
            DIR* d = opendir(dir.c_str());
            if (!d) return;
            while (dirent* e = readdir(d)) {
                if (e->d_name[0] == '.') continue;
                int fd = bpf_obj_get((dir + "/" + e->d_name).c_str());
                if (fd < 0) continue;
                fn(fd, e->d_name);
                close(fd);
            }
            closedir(d);
        };
        // Programs by their pins' names: the kernel keeps only the first 15 bytes of a name.
        each_pin(settings.pin_dir + "/links", [](int link, const char* pin) {
            bpf_link_info li{};
            __u32 len = sizeof(li);
            if (bpf_obj_get_info_by_fd(link, &li, &len) != 0) return;
            int prog = bpf_prog_get_fd_by_id(li.prog_id);
            if (prog < 0) return;
            bpf_prog_info pi{};
            len = sizeof(pi);
            if (bpf_obj_get_info_by_fd(prog, &pi, &len) == 0)
                std::printf("program %s %llu %llu\n", pin, static_cast<unsigned long long>(pi.run_cnt),
                            static_cast<unsigned long long>(pi.run_time_ns));
            close(prog);
        });
        each_pin(settings.pin_dir + "/maps", [](int map, const char* pin) {
            bpf_map_info mi{};
            __u32 len = sizeof(mi);
            if (bpf_obj_get_info_by_fd(map, &mi, &len) != 0) return;
            // The kernel's charge for the map, as bpftool reads it: "memlock:" in the fd's fdinfo.
            unsigned long long memlock = 0;
            if (std::FILE* f = std::fopen(("/proc/self/fdinfo/" + std::to_string(map)).c_str(), "r")) {
                char line[256];
                while (std::fgets(line, sizeof(line), f))
                    if (std::sscanf(line, "memlock: %llu", &memlock) == 1) break;
                std::fclose(f);
            }
            std::printf("map %s %llu %u\n", pin, memlock, mi.max_entries);
        });
        return 0;
    }
    if (cmd == "unload") {
        enforcer->reset();
        auto r = enforce::remove_pins(settings.pin_dir);
        return r ? 0 : die(r.error().message);
    }
    if (cmd == "hold") {
        std::printf("ready %s\n", (*enforcer)->adopted() ? "adopted" : "loaded");
        std::fflush(stdout);
        while (true) std::this_thread::sleep_for(std::chrono::hours(1));
    }
    if (cmd == "objects") {
        for (const auto& o : (*enforcer)->objects())
            std::printf("%llu %llu binding=%u flags=%u\n", static_cast<unsigned long long>(o.file.dev),
                        static_cast<unsigned long long>(o.file.ino), o.binding, o.flags);
        return 0;
    }
    if (cmd == "publish") {
        if (specs.size() != 5) return die("usage: publish ROOT UUID BINDING INDEX CONTENT");
        const std::string root = specs[0];
        const uint32_t index = static_cast<uint32_t>(std::stoul(specs[3]));
        delivery::FileSinkOptions so;
        so.root = root;
        so.mount = false;
        so.hooks.before_content = [&](const delivery::Target& t, delivery::FileId id) -> Result<void> {
            if (auto r = (*enforcer)->protect_file({identity::kernel_dev(id.device), id.inode}, index); !r) return r;
            const std::string workload = root + "/" + t.workload_uuid;
            for (const std::string& dir : {root, workload, workload + "/crb-" + t.binding}) {
                struct stat st{};
                if (::stat(dir.c_str(), &st) != 0) return fail(ErrorKind::not_found, "cannot stat " + dir);
                if (auto r = (*enforcer)->protect_directory({identity::kernel_dev(st.st_dev), st.st_ino}); !r) return r;
            }
            return {};
        };
        auto sink = delivery::FileSink::create(so);
        if (!sink) return die(sink.error().message);
        // No owner: the file stays root 0644, so every refusal in the tests is the kernel programs'.
        auto published = (*sink)->publish({specs[1], specs[2], "vault.json"}, specs[4], delivery::Ownership{});
        if (!published) return die(published.error().message);
        std::printf("published %s %llu\n", published->path.c_str(), static_cast<unsigned long long>(published->id.inode));
        return 0;
    }
    if (cmd == "audit") {
        int seen = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (seen < count && std::chrono::steady_clock::now() < deadline) {
            auto n = (*enforcer)->poll_audit(std::chrono::milliseconds(100), [&](const enforce::AuditEvent& e) {
                if (seen++ < count) std::printf("%s\n", enforce::audit_json(e, nullptr).c_str());
            });
            if (!n) return die(n.error().message);
        }
        return 0;
    }
    if (cmd != "apply") return die("unknown command '" + cmd + "'");

    identity::SystemResolver resolver;
    identity::CompiledRules rules;
    std::vector<std::pair<std::string, uint32_t>> files;
    for (const auto& spec : specs) {
        auto parts = split(spec, "::");
        if (parts.size() != 2) return die("bad SPEC '" + spec + "': want FILE::ALT[||ALT]");
        policy::WorkloadIdentity id;
        id.meta.name = "binding" + std::to_string(rules.bindings.size());
        id.workload_id = id.meta.name;
        for (const auto& alt_text : split(parts[1], "||")) {
            policy::SelectorAlternative alt;
            for (const auto& term_text : split(alt_text, "&")) {
                auto kv = split(term_text, "=");
                policy::SelectorTerm term;
                const auto key = kv.size() == 2 ? policy::selector_key_from_string(kv[0]) : std::nullopt;
                if (!key) return die("bad selector '" + term_text + "'");
                term.key = *key;
                term.values = split(kv[1], ",");
                alt.terms.push_back(term);
            }
            id.selectors.push_back(alt);
        }
        auto compiled = identity::compile_identity(id, resolver, candidates);
        if (!compiled) return die(compiled.error().message);
        for (const auto& w : compiled->warnings) std::fprintf(stderr, "credgate-enforce-test: warning: %s\n", w.c_str());
        files.emplace_back(parts[0], static_cast<uint32_t>(rules.bindings.size()));
        rules.bindings.push_back({id.meta.name, "spiffe://example.org/" + id.workload_id, *compiled});
    }
    for (const auto& dir : dirs) {
        auto key = key_of(dir);
        if (!key) return die(key.error().message);
        if (auto r = (*enforcer)->protect_directory(*key); !r) return die(r.error().message);
    }
    // Protect before applying rules: a file is never readable under a half-built state.
    for (const auto& [path, binding] : files) {
        if (path == "-") continue;
        auto key = key_of(path);
        if (!key) return die(key.error().message);
        if (auto r = (*enforcer)->protect_file(*key, binding); !r) return die(r.error().message);
    }
    // A one-shot tool, not an event loop: after adoption it waits out the grace period of the last
    // flip (whenever that was) before emptying the half it retired.
    if (!(*enforcer)->inactive_half_clean()) {
        std::this_thread::sleep_for(enforce::kRuleGracePeriod);
        if (auto r = (*enforcer)->clear_inactive_half(); !r) return die(r.error().message);
    }
    if (auto r = (*enforcer)->apply_rules(rules); !r) return die(r.error().message);
    if (auto r = (*enforcer)->set_mode(settings.mode); !r) return die(r.error().message);
    std::printf("applied %zu bindings (%s)\n", rules.bindings.size(), (*enforcer)->adopted() ? "adopted" : "loaded");
    return 0;
}
