// SPDX-License-Identifier: Apache-2.0
// Audit events as JSON lines: the subject's exe path, binding name and SPIFFE ID, verdict and hook;
// which binding an event is about.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "enforce/enforcer.hpp"

#include "credgate_abi.h"

namespace credgate::enforce {

namespace {

std::string exe_path(uint32_t tgid) {
    char buf[PATH_MAX];
    const std::string link = "/proc/" + std::to_string(tgid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

bool audit_names_binding(const AuditEvent& event) noexcept {
    return event.hook == "file_open" || event.hook == "file_receive" || event.hook == "file_permission" ||
           event.hook == "mmap_file";
}

const identity::CompiledRules::Binding* audit_binding(const AuditEvent& event, const identity::CompiledRules* rules) {
    if (!audit_names_binding(event) || !rules || event.binding >= rules->bindings.size()) return nullptr;
    return &rules->bindings[event.binding];
}

std::string audit_json(const AuditEvent& event, const identity::CompiledRules* rules) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    auto str = [&](const char* key, const std::string& value) {
        w.Key(key);
        w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    };
    w.StartObject();
    str("event", "credgate.audit");
    str("hook", event.hook);
    str("verdict", event.verdict);
    w.Key("pid"); w.Uint(event.pid);
    w.Key("tgid"); w.Uint(event.tgid);
    w.Key("uid"); w.Uint(event.uid);
    w.Key("gid"); w.Uint(event.gid);
    str("comm", event.comm);
    // The running image; for a script this is the interpreter, exe_dev/exe_ino name the script.
    if (auto exe = exe_path(event.tgid); !exe.empty()) str("exe", exe);  // absent once the process is gone
    w.Key("exe_dev"); w.Uint64(event.exe.dev);
    w.Key("exe_ino"); w.Uint64(event.exe.ino);
    w.Key("cgroup_id"); w.Uint64(event.cgroup_id);
    // object_dev is the kernel's dev_t, or CREDGATE_DEV_SYSFS for every sysfs mount (object_fs says so).
    w.Key("object_dev"); w.Uint64(event.object.dev);
    w.Key("object_ino"); w.Uint64(event.object.ino);
    if (event.object.dev == CREDGATE_DEV_SYSFS) str("object_fs", "sysfs");
    // Decisions on reading a credential name its binding.
    if (audit_names_binding(event)) {
        w.Key("binding_index"); w.Uint(event.binding);
        if (const auto* b = audit_binding(event, rules)) {
            str("binding", b->name);
            if (!b->spiffe_id.empty()) str("spiffe_id", b->spiffe_id);
        }
    }
    w.Key("suppressed_before"); w.Uint(event.suppressed);
    w.Key("monotonic_ns"); w.Uint64(event.timestamp_ns);
    w.EndObject();
    return std::string(out.GetString(), out.GetSize());
}

}  // namespace credgate::enforce
