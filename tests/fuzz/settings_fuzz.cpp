// SPDX-License-Identifier: Apache-2.0
// Fuzzes the agent settings file (credgate.yaml): YAML text through the loader into a validated
// AgentConfig, and the fingerprint of every accepted one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/binding_definition.hpp"
#include "policy/loader.hpp"

using namespace credgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view yaml(reinterpret_cast<const char*>(data), size);
    auto loaded = policy::load_agent_config_from_string(yaml, "credgate.yaml");
    if (!loaded) {
        for (const auto& d : loaded.error()) (void)d.to_string();
        return 0;
    }
    for (const auto& w : loaded->warnings) (void)w.to_string();
    (void)policy::config_fingerprint(loaded->value);
    return 0;
}
