// SPDX-License-Identifier: Apache-2.0
// Inside src/policy only: the readers of the four policy kinds' `spec` mappings, one file each.
// Each checks structure and spelling and fills the model; the semantic rules live in validate.cpp.
#pragma once

#include "policy/detail/yaml_reader.hpp"
#include "policy/model.hpp"

namespace credgate::policy::detail {

void read_workload_identity(YamlReader& r, const YAML::Node& spec, WorkloadIdentity& out);
void read_credential_source(YamlReader& r, const YAML::Node& spec, CredentialSource& out);
void read_credential_binding(YamlReader& r, const YAML::Node& spec, CredentialBinding& out);
void read_service(YamlReader& r, const YAML::Node& spec, Service& out);

}  // namespace credgate::policy::detail
