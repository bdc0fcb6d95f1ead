// SPDX-License-Identifier: Apache-2.0
// Process facts from /proc/<pid>/{exe,status,comm,cgroup} and the cgroup2 tree's inode numbers.
#include "identity/process_facts.hpp"

#include <fmt/format.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace credgate::identity {
namespace {

// The first line of a small /proc file, without its newline; nullopt when it cannot be read.
std::optional<std::string> first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) return std::nullopt;
    return line;
}

// The numbers after "<field>:" in /proc/<pid>/status ("Uid:\t0\t0\t0\t0").
std::vector<uint32_t> status_numbers(const std::string& status, std::string_view field) {
    std::istringstream lines(status);
    std::string line;
    std::vector<uint32_t> out;
    while (std::getline(lines, line)) {
        if (!line.starts_with(field) || line.size() <= field.size() || line[field.size()] != ':') continue;
        std::istringstream values(line.substr(field.size() + 1));
        uint32_t v = 0;
        while (values >> v) out.push_back(v);
        break;
    }
    return out;
}

bool unit_name(std::string_view component) {
    return component.ends_with(".service") || component.ends_with(".scope");
}

}  // namespace

const char* to_string(ExeSource source) noexcept {
    switch (source) {
        case ExeSource::kernel: return "kernel";
        case ExeSource::proc: return "proc";
        case ExeSource::none: return "none";
    }
    return "none";
}

std::string device_text(uint64_t kernel_dev) {
    return fmt::format("{}:{}", kernel_dev >> 20, kernel_dev & ((1u << 20) - 1));
}

Result<ProcessFacts> read_process_facts(pid_t pid, const ProcRoots& roots) {
    const std::string dir = fmt::format("{}/{}", roots.proc, pid);
    std::ifstream status_file(dir + "/status");
    if (pid <= 0 || !status_file)
        return fail(ErrorKind::not_found, fmt::format("no process with pid {} is running", pid));
    std::stringstream status_text;
    status_text << status_file.rdbuf();
    const std::string status = status_text.str();

    ProcessFacts f;
    f.pid = pid;
    // Uid: real effective saved filesystem; the kernel's rules compare the file-system ids.
    const auto uids = status_numbers(status, "Uid");
    const auto gids = status_numbers(status, "Gid");
    if (uids.size() < 4 || gids.size() < 4)
        return fail(ErrorKind::protocol, fmt::format("cannot read the ids of pid {} from {}/status", pid, dir));
    f.real_uid = uids[0];
    f.uid = uids[3];
    f.gid = gids[3];
    const auto tracer = status_numbers(status, "TracerPid");
    f.traced = !tracer.empty() && tracer[0] != 0;
    f.comm = first_line(dir + "/comm").value_or("");

    char buf[PATH_MAX];
    const ssize_t n = ::readlink((dir + "/exe").c_str(), buf, sizeof buf - 1);
    if (n > 0) f.exe_path.assign(buf, static_cast<size_t>(n));
    struct stat st {};
    // stat() through the magic link reaches the file itself, even once it was renamed or removed.
    if (n > 0 && ::stat((dir + "/exe").c_str(), &st) == 0) f.exe = FileKey{kernel_dev(st.st_dev), st.st_ino};

    // cgroup v2 only ("0::<path>"), as the kernel programs see it.
    std::ifstream cgroups(dir + "/cgroup");
    for (std::string line; std::getline(cgroups, line);)
        if (line.starts_with("0::")) f.cgroup = line.substr(3);
    if (!f.cgroup.empty()) {
        std::string path;
        size_t start = 0;
        while (true) {
            struct stat cg {};
            if (::stat((roots.cgroup + path).c_str(), &cg) != 0) break;  // the cgroup went away meanwhile
            f.cgroup_ids.push_back(static_cast<uint64_t>(cg.st_ino));     // on cgroup2, the inode is the id
            start = f.cgroup.find_first_not_of('/', start);
            if (start == std::string::npos) break;
            const size_t end = std::min(f.cgroup.find('/', start), f.cgroup.size());
            const std::string_view component(f.cgroup.data() + start, end - start);
            path += "/" + std::string(component);
            if (unit_name(component)) f.unit = std::string(component);
            start = end;
        }
    }
    return f;
}

std::vector<pid_t> running_processes(const ProcRoots& roots) {
    std::vector<pid_t> pids;
    DIR* d = ::opendir(roots.proc.c_str());
    if (!d) return pids;
    while (const dirent* e = ::readdir(d)) {
        pid_t pid = 0;
        const char* end = e->d_name + std::strlen(e->d_name);
        auto [p, ec] = std::from_chars(e->d_name, end, pid);
        if (ec == std::errc{} && p == end && pid > 0) pids.push_back(pid);
    }
    ::closedir(d);
    std::sort(pids.begin(), pids.end());
    return pids;
}

}  // namespace credgate::identity
