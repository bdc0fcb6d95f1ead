// SPDX-License-Identifier: Apache-2.0
// The programs' record of what each task executed (credgate_tasks), read by pid: the file
// process:path rules are matched against, which for a script is the script, not its interpreter.
#pragma once

#include "common/fd.hpp"
#include "common/result.hpp"
#include "identity/compile.hpp"

#include <optional>
#include <string>

#include <sys/types.h>

namespace credgate::enforce {

class ExecRecords {
public:
    // Opens the pinned credgate_tasks map under `pin_dir`; only credgated may (the programs refuse others).
    static Result<ExecRecords> open(const std::string& pin_dir);

    // The file recorded at `pid`'s last exec; nullopt when the process has none (it predates the
    // programs, so no process:path rule matches it). not_found: no such process.
    Result<std::optional<identity::FileKey>> executed_file(pid_t pid) const;

private:
    explicit ExecRecords(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace credgate::enforce
