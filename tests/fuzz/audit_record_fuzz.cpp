// SPDX-License-Identifier: Apache-2.0
// Fuzzes the audit ring's record decoder: raw record bytes into an AuditEvent, and that event as
// the JSON line credgated writes, with and without the rules that name its binding.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "enforce/audit_record.hpp"
#include "enforce/enforcer.hpp"
#include "identity/compile.hpp"

using namespace credgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto event = enforce::decode_audit_record(std::as_bytes(std::span(data, size)));
    if (!event) return 0;
    identity::CompiledRules rules;
    rules.bindings.push_back({"openai", "spiffe://example.org/ai-agent", {}});
    rules.bindings.push_back({"kv", "spiffe://example.org/app", {}});
    const std::string with_rules = enforce::audit_json(*event, &rules);
    const std::string without = enforce::audit_json(*event, nullptr);
    // One JSON line each: a line break inside would split the audit log's records.
    if (with_rules.find('\n') != std::string::npos || without.find('\n') != std::string::npos) __builtin_trap();
    return 0;
}
