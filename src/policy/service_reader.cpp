// SPDX-License-Identifier: Apache-2.0
// A Service's spec from YAML: its addresses (host and port), labels and whether it is external.
#include "policy/detail/kind_readers.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace credgate::policy::detail {

void read_service(YamlReader& r, const YAML::Node& spec, Service& out) {
    if (!r.check_map(spec, "spec", {"addresses", "labels", "external"})) return;
    r.bool_field(spec, "spec", "external", out.external);
    if (auto l = r.find(spec, "labels")) r.string_map(*l, "spec.labels", out.labels);
    auto addrs = r.find(spec, "addresses");
    if (!addrs) return;
    if (!addrs->IsSequence()) {
        r.error(*addrs, "spec.addresses", fmt::format("must be a list of {{address, port}}, got {}", describe(*addrs)));
        return;
    }
    r.record("spec.addresses", *addrs);
    for (std::size_t i = 0; i < addrs->size(); ++i) {
        const YAML::Node a = (*addrs)[i];
        std::string f = fmt::format("spec.addresses[{}]", i);
        if (!r.check_map(a, f, {"address", "port"})) continue;
        ServiceAddress sa;
        r.string_field(a, f, "address", sa.address);
        if (auto p = r.find(a, "port")) {
            if (auto s = r.scalar(*p, f + ".port")) {
                char* end = nullptr;
                errno = 0;
                long n = std::strtol(s->c_str(), &end, 10);
                if (s->empty() || end != s->c_str() + s->size() || errno != 0 || n < 1 || n > 65535)
                    r.error(*p, f + ".port", fmt::format("must be a port number from 1 to 65535, got '{}'", *s));
                else sa.port = static_cast<uint16_t>(n);
            }
        }
        out.addresses.push_back(std::move(sa));
    }
}

}  // namespace credgate::policy::detail
