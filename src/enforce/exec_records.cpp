// SPDX-License-Identifier: Apache-2.0
// ExecRecords over libbpf: task storage is looked up from userspace by a pidfd of the task.
#include "enforce/exec_records.hpp"

#include <bpf/bpf.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "credgate_abi.h"

namespace credgate::enforce {

Result<ExecRecords> ExecRecords::open(const std::string& pin_dir) {
    const std::string pin = pin_dir + "/maps/credgate_tasks";
    const int fd = bpf_obj_get(pin.c_str());
    if (fd < 0) return fail(ErrorKind::unavailable, fmt::format("cannot open '{}': {}", pin, std::strerror(errno)));
    return ExecRecords(UniqueFd(fd));
}

Result<std::optional<identity::FileKey>> ExecRecords::executed_file(pid_t pid) const {
    // The thread group leader's record: what a single-threaded process's opens are checked against.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (pidfd.get() < 0)
        return fail(errno == ESRCH ? ErrorKind::not_found : ErrorKind::internal,
                    fmt::format("cannot open pid {}: {}", pid, std::strerror(errno)));
    const int key = pidfd.get();
    credgate_task task{};
    if (bpf_map_lookup_elem(fd_.get(), &key, &task) != 0) {
        if (errno == ENOENT) return std::optional<identity::FileKey>{};
        return fail(ErrorKind::internal, fmt::format("cannot read the exec record of pid {}: {}", pid, std::strerror(errno)));
    }
    if (!(task.flags & CREDGATE_TASK_EXE)) return std::optional<identity::FileKey>{};
    return std::optional<identity::FileKey>{identity::FileKey{task.exe_dev, task.exe_ino}};
}

}  // namespace credgate::enforce
