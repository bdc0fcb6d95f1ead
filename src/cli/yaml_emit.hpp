// SPDX-License-Identifier: Apache-2.0
// Renders a JSON document as block-style YAML (what `kubectl get -o yaml` prints), quoting every
// string a YAML reader would otherwise take for another type, with comment lines where asked.
#pragma once

#include "common/result.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::cli {

// Comment lines to print above a node, by its path: "" the document, "spec.vault" a member,
// "spec.selectors[0]" an item of a list (the same paths as policy diagnostics).
using YamlComments = std::map<std::string, std::vector<std::string>>;

Result<std::string> json_to_yaml(std::string_view json, const YamlComments& comments = {});

// Prints credgated's JSON answer on stdout as `output` ("json": as it came; "yaml": json_to_yaml).
// False when it cannot be rendered, with "credgatectl <command>: <reason>" on stderr.
bool print_document(std::string_view command, const std::string& json, std::string_view output);

}  // namespace credgate::cli
