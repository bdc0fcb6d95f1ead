// SPDX-License-Identifier: Apache-2.0
// A set of credgate's programs as the kernel runs them: per program its tag (the kernel's hash of its
// instructions) and the constants it reads (its .rodata), read from the pinned links or from a loaded
// object, compared, and named by one digest. Private to src/enforce.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

struct bpf_object;

namespace credgate::enforce::detail {

struct ProgramFacts {
    std::string tag;        // 16 hex digits, as bpftool prints it
    std::string constants;  // the bytes of the .rodata map the program reads; empty when it reads none
    uint32_t prog_id = 0;
    uint32_t link_id = 0;   // pinned programs only
    std::vector<uint32_t> map_ids;
};

struct ProgramSet {
    std::map<std::string, ProgramFacts> programs;  // by program name (a link pin's file name)

    // FNV-1a 64 over every program's name, tag and constants, as 16 hex digits: the same digest for
    // the same build of the programs on the same kernel.
    std::string digest() const;
};

// The programs behind the links pinned in `links_dir`, named by their pins' file names.
Result<ProgramSet> read_pinned_programs(const std::string& links_dir);
// The programs of the loaded `obj` that are to be attached (autoload).
Result<ProgramSet> read_loaded_programs(bpf_object* obj);

// One program that differs between two sets; an empty tag: the program is not in that set.
struct ProgramChange {
    std::string name, old_tag, new_tag;
    bool constants_only = false;  // same instructions, other constants
};
std::vector<ProgramChange> compare_programs(const ProgramSet& pinned, const ProgramSet& loaded);

}  // namespace credgate::enforce::detail
