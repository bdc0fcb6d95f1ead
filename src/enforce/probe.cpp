// SPDX-License-Identifier: Apache-2.0
// Support probe: is BPF LSM active, is kernel BTF present, does a no-op LSM program load and attach,
// does /proc/kallsyms show this process the addresses the programs are built with?
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "enforce/probe_detail.hpp"
#include "enforce/skeleton.hpp"

namespace credgate::enforce {

namespace {

constexpr const char* kLsmList = "/sys/kernel/security/lsm";
constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";
constexpr const char* kKallsyms = "/proc/kallsyms";
constexpr int kCapSyslog = 34;  // linux/capability.h

std::optional<int> read_int(const char* path) {
    std::ifstream in(path);
    int value = 0;
    if (in >> value) return value;
    return std::nullopt;
}

std::optional<uint64_t> parse_hex(std::string_view text) {
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    return value;
}

// Whether CAP_SYSLOG is in this process's effective set (/proc/self/status, CapEff).
bool has_cap_syslog() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("CapEff:", 0) != 0) continue;
        const size_t digits = line.find_first_not_of(" \t", 7);
        const auto caps = digits == std::string::npos ? std::nullopt : parse_hex(std::string_view(line).substr(digits));
        return caps && ((*caps >> kCapSyslog) & 1);
    }
    return false;
}

// The addresses of `names` as this process reads /proc/kallsyms, which is what libbpf reads when it
// loads the programs: the kernel shows zeros to a reader it does not trust with its addresses.
std::vector<detail::KallsymsEntry> read_kallsyms(const std::vector<std::string>& names) {
    std::vector<detail::KallsymsEntry> entries;
    for (const auto& n : names) entries.push_back({n, std::nullopt});
    std::ifstream in(kKallsyms);
    size_t left = entries.size();
    // Lines are "<hex address> <type> <name>[\t[<module>]]".
    for (std::string line; left > 0 && std::getline(in, line);) {
        const size_t type_end = line.find(' ', line.find(' ') + 1);
        if (type_end == std::string::npos) continue;
        const size_t name_end = line.find_first_of(" \t", type_end + 1);
        const std::string_view name = std::string_view(line).substr(type_end + 1, name_end - type_end - 1);
        for (auto& e : entries)
            if (!e.address && e.name == name) {
                e.address = parse_hex(std::string_view(line).substr(0, line.find(' ')));
                if (e.address) --left;
            }
    }
    return entries;
}

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
    if (facts.attach_errno) return facts;

    facts.kallsyms = read_kallsyms(detail::kallsyms_externs());
    facts.kptr_restrict = read_int("/proc/sys/kernel/kptr_restrict");
    facts.perf_event_paranoid = read_int("/proc/sys/kernel/perf_event_paranoid");
    facts.cap_syslog = has_cap_syslog();
    return facts;
}

}  // namespace

namespace detail {

namespace {

std::string setting(const char* name, const std::optional<int>& value) {
    return value ? fmt::format("{}={}", name, *value) : fmt::format("{} unreadable", name);
}

// Why the kernel shows this process zeros for its addresses (kallsyms_show_value() in kernel/kallsyms.c)
// and what to change.
std::string hidden_addresses(const ProbeFacts& facts) {
    if (facts.kptr_restrict && *facts.kptr_restrict >= 2)
        return fmt::format("kernel.kptr_restrict={} hides kernel addresses from every process, root with CAP_SYSLOG "
                           "included: set kernel.kptr_restrict=1 (sysctl, and a file in /etc/sysctl.d to keep it) "
                           "and keep CAP_SYSLOG in credgated's capabilities",
                           *facts.kptr_restrict);
    if (!facts.cap_syslog)
        return fmt::format("credgated runs without CAP_SYSLOG, which the kernel requires to show kernel addresses "
                           "with {} and {}: add CAP_SYSLOG to credgated's capabilities (credgated.service grants it)",
                           setting("kernel.kptr_restrict", facts.kptr_restrict),
                           setting("kernel.perf_event_paranoid", facts.perf_event_paranoid));
    return fmt::format("the kernel hides kernel addresses from credgated although it has CAP_SYSLOG ({}): CAP_SYSLOG "
                       "counts only in the initial user namespace",
                       setting("kernel.kptr_restrict", facts.kptr_restrict));
}

}  // namespace

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
        lsm_note = fmt::format(" ({} is unreadable: mount securityfs to see the active LSMs; BPF LSM needs 'bpf' "
                               "in lsm= on the kernel command line)",
                               kLsmList);
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
    for (const auto& symbol : facts.kallsyms) {
        if (!symbol.address)
            return unsupported(fmt::format("{} does not list '{}', whose address the BPF programs need (is /proc "
                                           "mounted, and the kernel built with CONFIG_KALLSYMS_ALL=y?)",
                                           kKallsyms, symbol.name));
        // libbpf would build 0 into the programs, silently: a check against it never matches.
        if (*symbol.address == 0)
            return unsupported(fmt::format("{} shows credgated the address of '{}' as 0, and libbpf would build the "
                                           "programs with it: their check that no other process detaches or updates "
                                           "credgated's BPF links would never match; {}",
                                           kKallsyms, symbol.name, hidden_addresses(facts)));
    }
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
