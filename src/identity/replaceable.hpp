// SPDX-License-Identifier: Apache-2.0
// Whether a uid other than root could replace a bound program (process:path): the kernel programs
// protect the program's inode, not its name, so whoever may rename entries on its path can swap it.
#pragma once

#include "common/result.hpp"

#include <string>
#include <vector>

namespace credgate::identity {

// The file or directory that lets a non-root uid replace the program, and why (in words).
struct ReplaceRisk {
    std::string path;
    std::string reason;    // e.g. "owned by uid 1000", "writable by others (mode 0777)"
    bool program = false;  // the program's file itself (symlinks resolved), not a directory
};

// Every file and directory on `program`'s path that a non-root uid could use to replace it: the
// program itself (owned by another uid, or group/other-writable), and every directory a lookup of
// the path passes through, symlinks followed (owned by another uid, who may always make it writable;
// or group/other-writable, unless the sticky bit stops the rename: a root-owned directory and a
// root-owned entry). Empty when only root can. Errors: not an absolute path, a step that cannot be
// looked up (not_found when something on it does not exist), a symlink loop.
Result<std::vector<ReplaceRisk>> replaceable_by_non_root(const std::string& program);

// The warning for one risk: what can be done, and the fix.
std::string describe_replace_risk(const std::string& program, const ReplaceRisk& risk);

}  // namespace credgate::identity
