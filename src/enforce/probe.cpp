// SPDX-License-Identifier: Apache-2.0
// Support probe: is BPF LSM active, is kernel BTF present, does a no-op LSM program load and attach?
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "enforce/probe_detail.hpp"

namespace credgate::enforce {

namespace {

constexpr const char* kLsmList = "/sys/kernel/security/lsm";
constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

detail::ProbeFacts gather() {
    detail::ProbeFacts facts;
    if (std::ifstream lsm(kLsmList); lsm) {
        std::string list;
        std::getline(lsm, list);
        facts.lsm_list = list;
    }
    facts.btf_readable = access(kVmlinuxBtf, R_OK) == 0;
    if (!facts.btf_readable) return facts;
    struct btf* vmlinux = btf__load_vmlinux_btf();
    if (!vmlinux) return facts;
    const int btf_id = btf__find_by_name_kind(vmlinux, "bpf_lsm_file_open", BTF_KIND_FUNC);
    btf__free(vmlinux);
    facts.btf_has_lsm_hooks = btf_id > 0;
    if (!facts.btf_has_lsm_hooks) return facts;

    // r0 = 0; exit: allows everything, so attaching it for a moment changes nothing.
    const struct bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC,
                .attach_btf_id = static_cast<__u32>(btf_id));
    const int prog = bpf_prog_load(BPF_PROG_TYPE_LSM, "credgate_probe", "GPL", insns, 2, &opts);
    if (prog < 0) {
        facts.load_errno = errno;
        return facts;
    }
    const int link = bpf_link_create(prog, 0, BPF_LSM_MAC, nullptr);
    if (link < 0) facts.attach_errno = errno;
    else close(link);
    close(prog);
    return facts;
}

}  // namespace

namespace detail {

Support classify(const ProbeFacts& facts) {
    auto unsupported = [](std::string message) { return Support{false, std::move(message)}; };
    std::string lsm_note;
    if (facts.lsm_list) {
        bool has_bpf = false;
        std::stringstream ss(*facts.lsm_list);
        for (std::string item; std::getline(ss, item, ',');)
            if (item == "bpf") has_bpf = true;
        if (!has_bpf)
            return unsupported(fmt::format("BPF LSM is not active (active LSMs: {}): add 'bpf' to lsm= on the kernel "
                                           "command line, e.g. lsm={},bpf",
                                           facts.lsm_list->empty() ? "none" : *facts.lsm_list,
                                           facts.lsm_list->empty() ? "..." : *facts.lsm_list));
    } else {
        // Not a verdict: the load attempt decides; the note helps whoever reads the refusal.
        lsm_note = fmt::format(" ({} is unreadable: mount securityfs to see the active LSMs)", kLsmList);
    }
    if (!facts.btf_readable)
        return unsupported(fmt::format("kernel BTF {} is missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y", kVmlinuxBtf));
    if (!facts.btf_has_lsm_hooks)
        return unsupported("kernel BTF has no bpf_lsm_file_open: the kernel was built without CONFIG_BPF_LSM");
    if (facts.load_errno == EPERM)
        return unsupported(fmt::format("kernel refused to load LSM programs (EPERM): run as root with CAP_BPF and "
                                       "CAP_SYS_ADMIN, and check that lockdown or a sandbox does not forbid BPF LSM{}",
                                       lsm_note));
    if (facts.load_errno)
        return unsupported(fmt::format("kernel refused to load an LSM program: {}{}", std::strerror(facts.load_errno), lsm_note));
    if (facts.attach_errno)
        return unsupported(fmt::format("kernel refused to attach an LSM program: {}{}", std::strerror(facts.attach_errno),
                                       lsm_note));
    return Support{true, ""};
}

}  // namespace detail

const Support& probe() {
    static std::once_flag once;
    static Support result;
    std::call_once(once, [] { result = detail::classify(gather()); });
    return result;
}

}  // namespace credgate::enforce
