// SPDX-License-Identifier: Apache-2.0
// The loader's entry points: structural findings from the YAML readers and semantic ones from
// validate.cpp, combined into one all-or-nothing result in file and line order.
#include "policy/loader.hpp"

#include "policy/detail/document_reader.hpp"
#include "policy/detail/policy_files.hpp"
#include "policy/detail/settings_reader.hpp"
#include "policy/validate.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

namespace credgate::policy {
namespace {

bool is_prefix_field(const std::string& prefix, const std::string& field) {
    if (prefix.empty()) return true;
    if (!field.starts_with(prefix)) return false;
    return field.size() == prefix.size() || field[prefix.size()] == '.' || field[prefix.size()] == '[';
}

// Puts structural findings first and drops semantic ones about a field that could not be read (it
// would also look "missing") or about its parent (e.g. an alternative judged without its unreadable
// term), then orders everything by file and position.
std::vector<Diagnostic> merge(std::vector<Diagnostic> structural, std::vector<Diagnostic> semantic,
                              const std::vector<std::string>& files) {
    std::vector<Diagnostic> out = std::move(structural);
    const std::size_t n_structural = out.size();
    for (auto& d : semantic) {
        bool repeated = false;
        for (std::size_t i = 0; i < n_structural && !repeated; ++i)
            repeated = out[i].severity == Severity::error && out[i].object == d.object &&
                       out[i].location.file == d.location.file &&
                       (is_prefix_field(out[i].field, d.field) || is_prefix_field(d.field, out[i].field));
        if (!repeated) out.push_back(std::move(d));
    }
    auto file_rank = [&](const std::string& f) {
        auto it = std::find(files.begin(), files.end(), f);
        return static_cast<std::size_t>(it - files.begin());
    };
    std::stable_sort(out.begin(), out.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        auto ka = std::make_tuple(file_rank(a.location.file), a.location.line, a.location.column);
        auto kb = std::make_tuple(file_rank(b.location.file), b.location.line, b.location.column);
        return ka < kb;
    });
    return out;
}

template <typename T>
LoadResult<T> finish(T value, std::vector<Diagnostic> all, std::vector<std::string> files) {
    if (has_errors(all)) return std::unexpected(std::move(all));
    Loaded<T> loaded{std::move(value), std::move(all), std::move(files)};
    return loaded;
}

LoadResult<AgentConfig> agent_config_from_text(std::string_view text, const std::string& file) {
    std::vector<Diagnostic> structural;
    AgentConfig config;
    config.location = SourceLocation{file, 0, 0};
    bool read = detail::read_settings_text(text, file, config, structural);
    // Value rules run even after structural errors, on the parts that did read; merge() drops repeats.
    std::vector<Diagnostic> semantic;
    if (read) semantic = validate_agent_config(config);
    return finish(std::move(config), merge(std::move(structural), std::move(semantic), {file}), {file});
}

}  // namespace

LoadResult<AgentConfig> load_agent_config(const std::string& path) {
    std::vector<Diagnostic> diags;
    auto text = detail::read_policy_file(path, diags);
    if (!text) return std::unexpected(std::move(diags));
    return agent_config_from_text(*text, path);
}

LoadResult<AgentConfig> load_agent_config_from_string(std::string_view yaml, const std::string& file_name) {
    return agent_config_from_text(yaml, file_name);
}

LoadResult<PolicySet> load_policies(const std::vector<std::string>& paths,
                                    const std::optional<std::string>& trust_domain) {
    std::vector<Diagnostic> structural;
    std::vector<std::string> files = detail::policy_files(paths, structural);
    PolicySet set;
    for (const auto& f : files)
        if (auto text = detail::read_policy_file(f, structural)) detail::read_policy_text(*text, f, set, structural);
    auto semantic = validate_policy_set(set, trust_domain);
    return finish(std::move(set), merge(std::move(structural), std::move(semantic), files), files);
}

LoadResult<PolicySet> load_policies_from_string(std::string_view yaml, const std::string& file_name,
                                                const std::optional<std::string>& trust_domain) {
    std::vector<Diagnostic> structural;
    PolicySet set;
    detail::read_policy_text(yaml, file_name, set, structural);
    auto semantic = validate_policy_set(set, trust_domain);
    std::vector<std::string> files{file_name};
    return finish(std::move(set), merge(std::move(structural), std::move(semantic), files), files);
}

}  // namespace credgate::policy
