// SPDX-License-Identifier: Apache-2.0
// Program sets read from the kernel: bpf_prog_info's tag and map ids for each program, the .rodata
// map among those maps for its constants; libbpf errors become Results here.
#include "enforce/program_set.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "enforce/kernel_maps.hpp"

namespace credgate::enforce::detail {

namespace {

// Closes an fd from a bpf() call at the end of the scope.
struct ScopedFd {
    int fd;
    ~ScopedFd() {
        if (fd >= 0) close(fd);
    }
};

// The bytes of a program's .rodata map (libbpf names it "<object>.rodata"; it is frozen and read-only
// for programs), cached by map id: every program of one load shares one.
Result<std::string> rodata_of(const std::vector<uint32_t>& map_ids, std::map<uint32_t, std::string>& cache) {
    for (uint32_t id : map_ids) {
        if (auto it = cache.find(id); it != cache.end()) return it->second;
        ScopedFd map{bpf_map_get_fd_by_id(id)};
        if (map.fd < 0) return fail(ErrorKind::internal, fmt::format("cannot open BPF map {}: {}", id, errno_text(errno)));
        bpf_map_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(map.fd, &info, &len) != 0)
            return fail(ErrorKind::internal, fmt::format("cannot read BPF map {}: {}", id, errno_text(errno)));
        const std::string_view name(info.name, strnlen(info.name, sizeof(info.name)));
        if (info.type != BPF_MAP_TYPE_ARRAY || !(info.map_flags & BPF_F_RDONLY_PROG) || !name.ends_with(".rodata"))
            continue;
        std::string value(info.value_size, '\0');
        const uint32_t zero = 0;
        if (bpf_map_lookup_elem(map.fd, &zero, value.data()) != 0)
            return fail(ErrorKind::internal, fmt::format("cannot read the constants in BPF map {}: {}", id, errno_text(errno)));
        cache[id] = value;
        return value;
    }
    return std::string();
}

Result<ProgramFacts> facts_of(int prog_fd, std::map<uint32_t, std::string>& rodata_cache) {
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0)
        return fail(ErrorKind::internal, fmt::format("cannot read a BPF program's info: {}", errno_text(errno)));
    ProgramFacts facts;
    facts.prog_id = info.id;
    facts.map_ids.resize(info.nr_map_ids);
    if (!facts.map_ids.empty()) {
        // A second call fills the map ids; the count may not grow in between (a loaded program's
        // maps are fixed).
        bpf_prog_info with_maps{};
        with_maps.nr_map_ids = static_cast<__u32>(facts.map_ids.size());
        with_maps.map_ids = reinterpret_cast<__u64>(facts.map_ids.data());
        len = sizeof(with_maps);
        if (bpf_obj_get_info_by_fd(prog_fd, &with_maps, &len) != 0)
            return fail(ErrorKind::internal, fmt::format("cannot read the maps of BPF program {}: {}", info.id, errno_text(errno)));
        facts.map_ids.resize(std::min<size_t>(facts.map_ids.size(), with_maps.nr_map_ids));
    }
    for (uint8_t byte : info.tag) facts.tag += fmt::format("{:02x}", byte);
    auto constants = rodata_of(facts.map_ids, rodata_cache);
    if (!constants) return fail(constants.error());
    facts.constants = std::move(*constants);
    return facts;
}

}  // namespace

std::string ProgramSet::digest() const {
    uint64_t h = 14695981039346656037ull;  // FNV-1a 64
    auto mix = [&h](std::string_view bytes) {
        for (unsigned char c : bytes) {
            h ^= c;
            h *= 1099511628211ull;
        }
        h ^= 0xff;  // a separator no field can end with ambiguously
        h *= 1099511628211ull;
    };
    for (const auto& [name, facts] : programs) {
        mix(name);
        mix(facts.tag);
        mix(facts.constants);
    }
    return fmt::format("{:016x}", h);
}

Result<ProgramSet> read_pinned_programs(const std::string& links_dir) {
    namespace fs = std::filesystem;
    ProgramSet set;
    std::map<uint32_t, std::string> rodata_cache;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(links_dir, ec)) {
        const std::string pin = entry.path().string();
        ScopedFd link{bpf_obj_get(pin.c_str())};
        if (link.fd < 0) return fail(ErrorKind::permission, fmt::format("cannot open pinned link '{}': {}", pin, errno_text(errno)));
        bpf_link_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(link.fd, &info, &len) != 0)
            return fail(ErrorKind::internal, fmt::format("cannot read pinned link '{}': {}", pin, errno_text(errno)));
        ScopedFd prog{bpf_prog_get_fd_by_id(info.prog_id)};
        if (prog.fd < 0)
            return fail(ErrorKind::internal, fmt::format("cannot open the program of pinned link '{}': {}", pin, errno_text(errno)));
        auto facts = facts_of(prog.fd, rodata_cache);
        if (!facts) return fail(facts.error());
        facts->link_id = info.id;
        set.programs[entry.path().filename().string()] = std::move(*facts);
    }
    if (ec) return fail(ErrorKind::internal, fmt::format("cannot list '{}': {}", links_dir, ec.message()));
    return set;
}

Result<ProgramSet> read_loaded_programs(bpf_object* obj) {
    ProgramSet set;
    std::map<uint32_t, std::string> rodata_cache;
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj) {
        if (!bpf_program__autoload(prog)) continue;
        auto facts = facts_of(bpf_program__fd(prog), rodata_cache);
        if (!facts) return fail(facts.error());
        set.programs[bpf_program__name(prog)] = std::move(*facts);
    }
    return set;
}

std::vector<ProgramChange> compare_programs(const ProgramSet& pinned, const ProgramSet& loaded) {
    std::vector<ProgramChange> out;
    for (const auto& [name, old] : pinned.programs) {
        auto it = loaded.programs.find(name);
        if (it == loaded.programs.end()) out.push_back({name, old.tag, "", false});
        else if (it->second.tag != old.tag || it->second.constants != old.constants)
            out.push_back({name, old.tag, it->second.tag, it->second.tag == old.tag});
    }
    for (const auto& [name, facts] : loaded.programs)
        if (!pinned.programs.contains(name)) out.push_back({name, "", facts.tag, false});
    return out;
}

}  // namespace credgate::enforce::detail
