// SPDX-License-Identifier: Apache-2.0
// Fuzzes policy files: YAML text through the loader (reader, model, validation), with and without a
// trust domain, and each accepted binding resolved into its definition.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/binding_definition.hpp"
#include "policy/loader.hpp"

using namespace credgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view yaml(reinterpret_cast<const char*>(data), size);
    for (const auto& trust_domain : {std::optional<std::string>("example.org"), std::optional<std::string>()}) {
        auto loaded = policy::load_policies_from_string(yaml, "fuzz.yaml", trust_domain);
        if (!loaded) {
            for (const auto& d : loaded.error()) (void)d.to_string();
            continue;
        }
        for (const auto& w : loaded->warnings) (void)w.to_string();
        if (trust_domain) (void)policy::resolve_bindings(loaded->value, *trust_domain);
    }
    return 0;
}
