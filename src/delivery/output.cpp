// SPDX-License-Identifier: Apache-2.0
// Credential file formats: json, raw and env.
#include "delivery/output.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace credgate::delivery {
namespace {

bool env_name_ok(std::string_view k) {
    if (k.empty() || (k.front() >= '0' && k.front() <= '9')) return false;
    return std::all_of(k.begin(), k.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool single_line(std::string_view v) {
    return v.find_first_of(std::string_view("\n\r\0", 3)) == std::string_view::npos;
}

}  // namespace

Result<std::string> render(const policy::BindingOutput& output, std::string_view data_json,
                           const std::map<std::string, std::string>& string_fields) {
    switch (output.format) {
    case policy::OutputFormat::json:
        if (data_json.empty() || data_json.front() != '{')
            return fail(ErrorKind::protocol, "secret data is not a JSON object");
        return std::string(data_json) + "\n";
    case policy::OutputFormat::raw: {
        if (!output.field || output.field->empty())
            return fail(ErrorKind::invalid_argument,
                        fmt::format("output '{}' has format raw but no field", output.file_name));
        auto it = string_fields.find(*output.field);
        if (it == string_fields.end())
            return fail(ErrorKind::not_found,
                        fmt::format("secret has no string field '{}' for raw output '{}'", *output.field,
                                    output.file_name));
        return it->second;
    }
    case policy::OutputFormat::env: {
        std::string out;
        for (const auto& [k, v] : string_fields) {
            if (!env_name_ok(k))
                return fail(ErrorKind::invalid_argument,
                            fmt::format("secret field '{}' is not a valid environment variable name for "
                                        "env output '{}'", k, output.file_name));
            if (!single_line(v))
                return fail(ErrorKind::invalid_argument,
                            fmt::format("secret field '{}' contains a line break or NUL and cannot be "
                                        "written to env output '{}'", k, output.file_name));
            out += k;
            out += '=';
            out += v;
            out += '\n';
        }
        return out;
    }
    }
    return fail(ErrorKind::internal, "unknown output format");
}

}  // namespace credgate::delivery
