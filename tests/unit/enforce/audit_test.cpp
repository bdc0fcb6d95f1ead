// SPDX-License-Identifier: Apache-2.0
// Audit events become one JSON object each, naming binding, SPIFFE ID, verdict and hook.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "enforce/audit_record.hpp"
#include "enforce/enforcer.hpp"

#include "credgate_abi.h"

using namespace credgate;

TEST_CASE("an audit event is one JSON object with binding, SPIFFE ID, verdict, hook and exe") {
    identity::CompiledRules rules;
    rules.bindings.push_back({"openai", "spiffe://example.org/ai-agent", {}});
    enforce::AuditEvent e;
    e.hook = "file_open";
    e.verdict = "deny";
    e.tgid = static_cast<uint32_t>(getpid());  // a live process: its exe path is known
    e.pid = e.tgid;
    e.uid = 1001;
    e.comm = "cat \"quoted\"";
    e.binding = 0;
    const std::string line = enforce::audit_json(e, &rules);
    CHECK(line.find('\n') == std::string::npos);
    rapidjson::Document doc;
    REQUIRE_FALSE(doc.Parse(line.c_str()).HasParseError());
    CHECK(std::string(doc["hook"].GetString()) == "file_open");
    CHECK(std::string(doc["verdict"].GetString()) == "deny");
    CHECK(std::string(doc["binding"].GetString()) == "openai");
    CHECK(std::string(doc["spiffe_id"].GetString()) == "spiffe://example.org/ai-agent");
    CHECK(std::string(doc["comm"].GetString()) == "cat \"quoted\"");
    CHECK(std::string(doc["exe"].GetString()).find("test_enforce") != std::string::npos);
    CHECK(doc["uid"].GetUint() == 1001);
}

TEST_CASE("an event of a process that is gone has no exe path, and an unknown binding no name") {
    enforce::AuditEvent e;
    e.hook = "file_open";
    e.verdict = "allow";
    e.tgid = 0;
    e.binding = 5;
    rapidjson::Document doc;
    REQUIRE_FALSE(doc.Parse(enforce::audit_json(e, nullptr).c_str()).HasParseError());
    CHECK_FALSE(doc.HasMember("exe"));
    CHECK_FALSE(doc.HasMember("binding"));
    CHECK(doc["binding_index"].GetUint() == 5);
}

TEST_CASE("a refused read through an fd names its binding; a refused ptrace of a process names none") {
    identity::CompiledRules rules;
    rules.bindings.push_back({"openai", "spiffe://example.org/ai-agent", {}});
    enforce::AuditEvent e;
    e.verdict = "deny";
    e.binding = 0;
    for (const char* hook : {"file_permission", "mmap_file"}) {
        e.hook = hook;
        rapidjson::Document doc;
        REQUIRE_FALSE(doc.Parse(enforce::audit_json(e, &rules).c_str()).HasParseError());
        CHECK(std::string(doc["binding"].GetString()) == "openai");
    }
    e.hook = "ptrace_access_check";
    rapidjson::Document doc;
    REQUIRE_FALSE(doc.Parse(enforce::audit_json(e, &rules).c_str()).HasParseError());
    CHECK_FALSE(doc.HasMember("binding"));
    CHECK_FALSE(doc.HasMember("binding_index"));
}

TEST_CASE("the binding an event is counted and logged under is the one its read decision names") {
    identity::CompiledRules rules;
    rules.bindings.push_back({"openai", "spiffe://example.org/ai-agent", {}});
    enforce::AuditEvent e;
    e.verdict = "deny";
    e.hook = "file_open";
    e.binding = 0;
    const auto* b = enforce::audit_binding(e, &rules);
    REQUIRE(b != nullptr);
    CHECK(b->name == "openai");
    CHECK(b->spiffe_id == "spiffe://example.org/ai-agent");
    CHECK(enforce::audit_binding(e, nullptr) == nullptr);
    e.binding = 1;  // a slot the rules do not know
    CHECK(enforce::audit_binding(e, &rules) == nullptr);
    e.binding = 0;
    e.hook = "inode_unlink";  // a tamper decision: its index names no binding
    CHECK_FALSE(enforce::audit_names_binding(e));
    CHECK(enforce::audit_binding(e, &rules) == nullptr);
}

TEST_CASE("a binding's slot hash is stable, never zero and tells names apart") {
    using credgate::enforce::binding_name_hash;
    CHECK(binding_name_hash("agent-key") == binding_name_hash("agent-key"));
    CHECK(binding_name_hash("agent-key") != binding_name_hash("agent-key2"));
    CHECK(binding_name_hash("a") != binding_name_hash("b"));
    CHECK(binding_name_hash("") != 0);
    // FNV-1a 64 of "a": the value a previous credgated wrote into the pinned binding records.
    CHECK(binding_name_hash("a") == 0xaf63dc4c8601ec8cull);
}

TEST_CASE("an object on sysfs is keyed on the file system and its audit line says so") {
    const auto key = enforce::object_key(0x16, 12447, 0x62656572);  // SYSFS_MAGIC
    CHECK(key.dev == (1ull << 32 | 0x62656572));
    CHECK(key.ino == 12447);
    CHECK(enforce::object_key(0x16, 12447, 0).dev == identity::kernel_dev(0x16));  // elsewhere: the dev
    enforce::AuditEvent e;
    e.hook = "file_open";
    e.verdict = "deny";
    e.object = key;
    rapidjson::Document doc;
    REQUIRE_FALSE(doc.Parse(enforce::audit_json(e, nullptr).c_str()).HasParseError());
    CHECK(std::string(doc["object_fs"].GetString()) == "sysfs");
    e.object = enforce::object_key(0x16, 12447, 0);
    REQUIRE_FALSE(doc.Parse(enforce::audit_json(e, nullptr).c_str()).HasParseError());
    CHECK_FALSE(doc.HasMember("object_fs"));
}

namespace {

std::vector<std::byte> record_bytes(const credgate_audit_event& raw, size_t extra = 0) {
    std::vector<std::byte> bytes(sizeof(raw) + extra, std::byte{0x5a});
    std::memcpy(bytes.data(), &raw, sizeof(raw));
    return bytes;
}

}  // namespace

TEST_CASE("a ring record decodes into an event with its hook and verdict named") {
    credgate_audit_event raw{};
    raw.timestamp_ns = 123456789;
    raw.cgroup_id = 42;
    raw.exe_dev = 8;
    raw.exe_ino = 99;
    raw.pid = 1234;
    raw.tgid = 1230;
    raw.uid = 1001;
    raw.binding = 3;
    raw.hook = CREDGATE_HOOK_FILE_OPEN;
    raw.verdict = CREDGATE_VERDICT_DENY;
    raw.suppressed = 7;
    std::memcpy(raw.comm, "cat", 3);
    const auto bytes = record_bytes(raw, 8);  // the ring may hand over a longer record
    const auto e = enforce::decode_audit_record(bytes);
    REQUIRE(e.has_value());
    CHECK(e->timestamp_ns == 123456789);
    CHECK(e->cgroup_id == 42);
    CHECK(e->exe.dev == 8);
    CHECK(e->exe.ino == 99);
    CHECK(e->pid == 1234);
    CHECK(e->tgid == 1230);
    CHECK(e->uid == 1001);
    CHECK(e->binding == 3);
    CHECK(e->hook == "file_open");
    CHECK(e->verdict == "deny");
    CHECK(e->suppressed == 7);
    CHECK(e->comm == "cat");
}

TEST_CASE("a short ring record decodes to nothing, and unknown numbers and a full comm stay bounded") {
    credgate_audit_event raw{};
    auto bytes = record_bytes(raw);
    CHECK_FALSE(enforce::decode_audit_record(std::span(bytes).first(sizeof(raw) - 1)).has_value());
    CHECK_FALSE(enforce::decode_audit_record({}).has_value());
    raw.hook = 0xffffffffu;
    raw.verdict = 77;
    std::memset(raw.comm, 'x', sizeof(raw.comm));  // no NUL: comm ends at the field's end
    bytes = record_bytes(raw);
    const auto e = enforce::decode_audit_record(bytes);
    REQUIRE(e.has_value());
    CHECK(e->hook == "unknown");
    CHECK(e->verdict == "unknown");
    CHECK(e->comm == std::string(sizeof(raw.comm), 'x'));
}
