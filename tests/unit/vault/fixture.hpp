// SPDX-License-Identifier: Apache-2.0
// Loads recorded Vault bodies from tests/fixtures/vault.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

inline std::string fixture(const std::string& name) {
    const char* root = std::getenv("CREDGATE_SOURCE_ROOT");
    const std::string path = std::string(root ? root : ".") + "/tests/fixtures/vault/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}
