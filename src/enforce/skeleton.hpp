// SPDX-License-Identifier: Apache-2.0
// The BPF object credgated carries, opened from the bytes embedded by `bpftool gen skeleton`, and the
// holder that closes it. Private to src/enforce.
#pragma once

#include <string>
#include <vector>

struct credgate_bpf;  // the generated skeleton (bpf/credgate.skel.h)

namespace credgate::enforce::detail {

// The one function that embeds the object's bytes (skeleton.cpp): a test build links another object
// of the same programs and maps in its place (tests/vm/meson.build), never an installed binary.
credgate_bpf* open_skeleton();

// The object's kernel symbols that libbpf resolves from /proc/kallsyms when it loads the programs:
// its typeless __ksym externs (`extern const void sym __ksym;`), whose addresses the kernel's BTF
// does not give. Empty when the object cannot be opened.
std::vector<std::string> kallsyms_externs();

// The opened skeleton and the fds opened from pins; closing them leaves pinned links attached.
class Skeleton {
public:
    Skeleton() = default;
    ~Skeleton();
    Skeleton(const Skeleton&) = delete;
    Skeleton& operator=(const Skeleton&) = delete;

    credgate_bpf* skel = nullptr;
    std::vector<int> owned_fds;
};

}  // namespace credgate::enforce::detail
