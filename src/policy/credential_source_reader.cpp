// SPDX-License-Identifier: Apache-2.0
// A CredentialSource's spec from YAML: the Vault/OpenBao provider's address, login and secret path.
#include "policy/detail/kind_readers.hpp"

namespace credgate::policy::detail {

void read_credential_source(YamlReader& r, const YAML::Node& spec, CredentialSource& out) {
    if (!r.check_map(spec, "spec", {"vault"})) return;
    auto vault = r.find(spec, "vault");
    if (!vault) {
        r.error(spec, "spec.vault", "is required (the only provider so far)");
        return;
    }
    const std::string f = "spec.vault";
    if (!r.check_map(*vault, f,
                     {"address", "caFile", "namespace", "jwtAuthMethodPath", "role", "path", "audience", "method",
                      "params"}))
        return;
    VaultSource& v = out.vault;
    r.string_field(*vault, f, "address", v.address);
    r.string_field(*vault, f, "caFile", v.ca_file);
    r.string_field(*vault, f, "namespace", v.namespace_);
    r.string_field(*vault, f, "jwtAuthMethodPath", v.jwt_auth_method_path);
    r.string_field(*vault, f, "role", v.role);
    r.string_field(*vault, f, "path", v.path);
    r.string_field(*vault, f, "method", v.method);
    if (auto aud = r.find(*vault, "audience")) {
        if (aud->IsNull()) r.error(*aud, f + ".audience", "has no value");
        else if (auto list = r.string_list(*aud, f + ".audience")) v.audience = std::move(*list);
    }
    if (auto params = r.find(*vault, "params")) r.string_map(*params, f + ".params", v.params);
}

}  // namespace credgate::policy::detail
