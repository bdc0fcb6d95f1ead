// SPDX-License-Identifier: Apache-2.0
// The support probe: every refusal names the missing piece; on this host it is a value, not a crash.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cerrno>

#include "enforce/enforcer.hpp"
#include "enforce/probe_detail.hpp"
#include "enforce/skeleton.hpp"

using credgate::enforce::detail::ProbeFacts;
using credgate::enforce::detail::classify;

namespace {
ProbeFacts working() {
    ProbeFacts f;
    f.lsm_list = "lockdown,capability,landlock,yama,apparmor,bpf";
    f.btf_readable = true;
    f.btf_has_lsm_hooks = true;
    f.kallsyms = {{"bpf_link_fops", 0xffffffff82a1b2c0}};
    f.kptr_restrict = 1;
    f.perf_event_paranoid = 3;
    f.cap_syslog = true;
    return f;
}
}  // namespace

TEST_CASE("a kernel without bpf in its LSM list is told how to add it") {
    ProbeFacts f = working();
    f.lsm_list = "lockdown,capability,landlock,yama,apparmor";
    const auto s = classify(f);
    CHECK_FALSE(s.supported);
    CHECK(s.message.find("BPF LSM is not active") != std::string::npos);
    CHECK(s.message.find("lsm=lockdown,capability,landlock,yama,apparmor,bpf") != std::string::npos);
}

TEST_CASE("a kernel that refuses LSM programs with EPERM says so") {
    ProbeFacts f = working();
    f.load_errno = EPERM;
    const auto s = classify(f);
    CHECK_FALSE(s.supported);
    CHECK(s.message.find("kernel refused to load LSM programs (EPERM)") != std::string::npos);
}

TEST_CASE("missing BTF and a kernel built without BPF LSM are named") {
    ProbeFacts f = working();
    f.btf_readable = false;
    CHECK(classify(f).message.find("CONFIG_DEBUG_INFO_BTF") != std::string::npos);
    f = working();
    f.btf_has_lsm_hooks = false;
    CHECK(classify(f).message.find("CONFIG_BPF_LSM") != std::string::npos);
    f = working();
    f.attach_errno = EBUSY;
    CHECK(classify(f).message.find("attach") != std::string::npos);
}

TEST_CASE("an unreadable LSM list is no verdict by itself: the load attempt decides") {
    ProbeFacts f = working();
    f.lsm_list.reset();
    CHECK(classify(f).supported);
    f.load_errno = EPERM;
    const auto s = classify(f);
    CHECK_FALSE(s.supported);
    CHECK(s.message.find("securityfs") != std::string::npos);
}

TEST_CASE("kernel.kptr_restrict=2 is refused: the programs would be built with a zero address") {
    ProbeFacts f = working();
    f.kallsyms = {{"bpf_link_fops", 0}};
    f.kptr_restrict = 2;
    const auto s = classify(f);
    CHECK_FALSE(s.supported);
    CHECK(s.message.find("/proc/kallsyms shows credgated the address of 'bpf_link_fops' as 0") != std::string::npos);
    CHECK(s.message.find("kernel.kptr_restrict=2 hides kernel addresses from every process") != std::string::npos);
    CHECK(s.message.find("set kernel.kptr_restrict=1") != std::string::npos);
}

TEST_CASE("a credgated without CAP_SYSLOG is told to take it, with the settings that require it") {
    ProbeFacts f = working();
    f.kallsyms = {{"bpf_link_fops", 0}};
    f.cap_syslog = false;
    auto s = classify(f);
    CHECK_FALSE(s.supported);
    CHECK(s.message.find("runs without CAP_SYSLOG") != std::string::npos);
    CHECK(s.message.find("kernel.kptr_restrict=1 and kernel.perf_event_paranoid=3") != std::string::npos);
    // kptr_restrict=0 hides addresses too when perf_event_paranoid is above 1 (Debian's default).
    f.kptr_restrict = 0;
    f.perf_event_paranoid.reset();
    s = classify(f);
    CHECK(s.message.find("runs without CAP_SYSLOG") != std::string::npos);
    CHECK(s.message.find("kernel.kptr_restrict=0 and kernel.perf_event_paranoid unreadable") != std::string::npos);
}

TEST_CASE("zeros shown despite CAP_SYSLOG, and a symbol /proc/kallsyms does not list, are refused too") {
    ProbeFacts f = working();
    f.kallsyms = {{"bpf_link_fops", 0}};
    auto s = classify(f);
    CHECK_FALSE(s.supported);
    CHECK(s.message.find("although it has CAP_SYSLOG") != std::string::npos);
    f.kallsyms = {{"bpf_link_fops", std::nullopt}};
    s = classify(f);
    CHECK_FALSE(s.supported);
    CHECK(s.message.find("/proc/kallsyms does not list 'bpf_link_fops'") != std::string::npos);
}

TEST_CASE("the object's symbols resolved through /proc/kallsyms are found in it") {
    // The one typeless __ksym extern of bpf/credgate.bpf.c; its kfuncs and typed externs, if any, not.
    CHECK(credgate::enforce::detail::kallsyms_externs() == std::vector<std::string>{"bpf_link_fops"});
}

TEST_CASE("a working kernel is supported with no message") {
    const auto s = classify(working());
    CHECK(s.supported);
    CHECK(s.message.empty());
}

TEST_CASE("the probe on this host returns a verdict, and Enforcer::create refuses with the same words") {
    const auto& s = credgate::enforce::probe();
    MESSAGE("probe on this host: " << (s.supported ? "supported" : s.message));
    CHECK(&s == &credgate::enforce::probe());  // cached
    if (s.supported) {
        CHECK(s.message.empty());
        return;  // a kernel that enforces: loading for real belongs to the VM suite
    }
    const bool named = s.message.find("BPF LSM is not active") != std::string::npos ||
                       s.message.find("(EPERM)") != std::string::npos ||
                       s.message.find("refused") != std::string::npos || s.message.find("BTF") != std::string::npos;
    CHECK(named);
    if (geteuid() == 0 && access("/sys/kernel/btf/vmlinux", R_OK) == 0) {
        // This machine's kernel has BTF and we are root: only the refusal of LSM programs is left.
        CHECK((s.message.find("(EPERM)") != std::string::npos || s.message.find("not active") != std::string::npos));
    }
    credgate::enforce::Settings settings;
    settings.pin_dir = "/nonexistent/credgate-test-pins";
    auto e = credgate::enforce::Enforcer::create(settings);
    REQUIRE_FALSE(e);
    CHECK(e.error().kind == credgate::ErrorKind::unsupported);
    CHECK(e.error().message == s.message);
}
