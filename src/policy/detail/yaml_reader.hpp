// SPDX-License-Identifier: Apache-2.0
// Inside src/policy only: the toolkit every YAML reader of the loader shares (checked mappings, typed
// fields, where each value was written). The only header that shows yaml-cpp types; other modules
// must not include it, and tools/scripts/check-layers refuses them.
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/model.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <chrono>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credgate::policy::detail {

// "a, b, c": the allowed spellings in a message.
std::string join(std::initializer_list<std::string_view> items);

// What a node holds, for "got ..." in a message ("a mapping", "'text'", ...).
std::string describe(const YAML::Node& n);

// Every document of `text`, as YAML::LoadAll gives them; throws YAML::Exception where `text` is not
// YAML, including the input yaml-cpp 0.7's LoadAll never returns from (see yaml_reader.cpp).
std::vector<YAML::Node> load_documents(std::string_view text);

// Every document of `text`, or nothing with a located "YAML syntax error" added to `diags`.
std::optional<std::vector<YAML::Node>> parse_yaml(std::string_view text, const std::string& file,
                                                  std::vector<Diagnostic>& diags);

// Reads one YAML document (or the settings file) into the model, reporting as it goes.
class YamlReader {
public:
    YamlReader(std::string file, std::vector<Diagnostic>& diags) : file_(std::move(file)), diags_(diags) {}

    // Findings from now on are about `object` ("Kind/name", or empty); locations go to `locs`.
    void begin_object(std::string object, FieldLocations* locs);

    SourceLocation loc(const YAML::Node& n) const;
    void error(const YAML::Node& at, const std::string& field, std::string message);
    void record(const std::string& field, const YAML::Node& n);

    // A mapping whose keys are all scalars, unique and among `allowed` (empty list: any key).
    // Reports every violation; returns false when `n` is not a mapping at all.
    bool check_map(const YAML::Node& n, const std::string& field, std::initializer_list<std::string_view> allowed);

    // The value of `key` in a checked mapping (the first one when duplicated), if present.
    std::optional<YAML::Node> find(const YAML::Node& map, std::string_view key);

    // An optional mapping section; a key with no value (only comments under it) means "all defaults".
    std::optional<YAML::Node> section(const YAML::Node& map, std::string_view key);

    static std::string path(const std::string& parent, std::string_view key);

    std::optional<std::string> scalar(const YAML::Node& v, const std::string& field);

    // Optional fields: absent leaves `out` unchanged; a malformed value is reported and leaves it too.
    void string_field(const YAML::Node& map, const std::string& parent, std::string_view key, std::string& out);
    void string_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                      std::optional<std::string>& out);
    void bool_field(const YAML::Node& map, const std::string& parent, std::string_view key, bool& out);
    void duration_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                        std::chrono::seconds& out);
    void number_field(const YAML::Node& map, const std::string& parent, std::string_view key, double& out);

    template <typename E>
    void enum_field(const YAML::Node& map, const std::string& parent, std::string_view key, E& out,
                    std::optional<E> (*parse)(std::string_view), std::initializer_list<std::string_view> names) {
        auto v = find(map, key);
        if (!v) return;
        std::string field = path(parent, key);
        auto s = scalar(*v, field);
        if (!s) return;
        if (auto e = parse(*s)) out = *e;
        else error(*v, field, fmt::format("unknown value '{}' (expected one of: {})", *s, join(names)));
    }

    // A scalar or a list of scalars.
    std::optional<std::vector<std::string>> string_list(const YAML::Node& v, const std::string& field);

    void string_map(const YAML::Node& v, const std::string& field, std::map<std::string, std::string>& out);

private:
    std::string file_;
    std::vector<Diagnostic>& diags_;
    std::string object_;
    FieldLocations* locs_ = nullptr;
    std::vector<std::pair<YAML::Node, YAML::Mark>> null_values_;  // empty values met by find(), with their key's mark
};

}  // namespace credgate::policy::detail
