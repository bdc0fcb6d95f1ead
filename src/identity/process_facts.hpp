// SPDX-License-Identifier: Apache-2.0
// The facts of a running process that selectors are matched against, read from /proc and cgroup2:
// executed file, fsuid/fsgid, cgroup and its ancestors, comm; and the list of running processes.
#pragma once

#include "common/result.hpp"
#include "identity/compile.hpp"
#include "identity/host_resolver.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace credgate::identity {

inline constexpr const char* kProcRoot = "/proc";

// Where the executed file of ProcessFacts came from.
enum class ExeSource {
    kernel,  // recorded by credgate's programs at the exec (the script for #!): what the kernel matches
    proc,    // /proc/<pid>/exe: the running image, which for a script is its interpreter
    none,    // the kernel has no record (the process predates the programs): no process:path rule matches
};

const char* to_string(ExeSource source) noexcept;

struct ProcessFacts {
    pid_t pid = 0;
    std::string exe_path;        // /proc/<pid>/exe, "" for a kernel thread or when unreadable
    std::optional<FileKey> exe;  // what process:path and process:sha256 rules are matched against
    ExeSource exe_source = ExeSource::proc;
    // The thread group leader's ids and name: the kernel checks the thread that opens the file,
    // which is the leader in every single-threaded program.
    uint32_t uid = 0;       // fsuid: what process:uid and process:user compare
    uint32_t gid = 0;       // fsgid: what process:gid and process:group compare
    uint32_t real_uid = 0;  // shown beside fsuid when they differ
    std::string comm;
    bool traced = false;  // a tracer is attached (TracerPid): the kernel refuses it every credential
    // The cgroup2 path ("/system.slice/agent.service"), and the ids of the root cgroup down to it:
    // the order in which the kernel walks a task's ancestors for a cgroup rule.
    std::string cgroup;
    std::vector<uint64_t> cgroup_ids;
    std::string unit;  // the innermost systemd unit on the cgroup path ("agent.service"), or ""
};

struct ProcRoots {
    std::string proc = kProcRoot;
    std::string cgroup = kCgroupRoot;
};

// The facts of one process. not_found when there is no such process (or it exited meanwhile).
// The executed file is /proc/<pid>/exe's (exe_source proc); a caller that can ask the kernel for
// its record replaces it.
Result<ProcessFacts> read_process_facts(pid_t pid, const ProcRoots& roots = {});

// Every process (thread group) running now, in pid order.
std::vector<pid_t> running_processes(const ProcRoots& roots = {});

// "254:1" for the kernel's device encoding (MAJOR << 20 | MINOR).
std::string device_text(uint64_t kernel_dev);

}  // namespace credgate::identity
