// SPDX-License-Identifier: Apache-2.0
// The YAML reader toolkit: parsing with located syntax errors, checked mappings and typed fields
// that record where every value was written.
#include "policy/detail/yaml_reader.hpp"

#include "policy/values.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace credgate::policy::detail {

std::string join(std::initializer_list<std::string_view> items) {
    std::string out;
    for (auto i : items) {
        if (!out.empty()) out += ", ";
        out += i;
    }
    return out;
}

std::string describe(const YAML::Node& n) {
    if (n.IsNull()) return "nothing (null)";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    if (n.IsScalar()) {
        constexpr std::size_t kMaxEcho = 64;
        const std::string& v = n.Scalar();
        return v.size() <= kMaxEcho ? fmt::format("'{}'", v) : fmt::format("'{}...'", v.substr(0, kMaxEcho));
    }
    return "an undefined value";
}

namespace {

// yaml-cpp 0.7's LoadAll loops for ever on a document it cannot start, such as a ',' at the top
// level: the parser reports a null document without consuming the token, and LoadAll asks again,
// collecting nulls until memory runs out (jbeder/yaml-cpp#1040, fixed after 0.7 by #1319). Every
// document consumes at least one token, so one that starts where the previous one started is that
// loop; this handler sees the documents' starts and refuses it.
class DocumentStarts final : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark& mark) override {
        if (previous_ && previous_->pos == mark.pos)
            throw YAML::ParserException(mark, "no YAML document can start here (a stray ',' or flow indicator?)");
        previous_ = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

private:
    std::optional<YAML::Mark> previous_;
};

}  // namespace

std::vector<YAML::Node> load_documents(std::string_view text) {
    const std::string copy(text);
    {
        std::istringstream in(copy);
        YAML::Parser parser(in);
        DocumentStarts starts;
        while (parser.HandleNextDocument(starts)) {
        }
    }
    return YAML::LoadAll(copy);
}

std::optional<std::vector<YAML::Node>> parse_yaml(std::string_view text, const std::string& file,
                                                  std::vector<Diagnostic>& diags) {
    try {
        return load_documents(text);
    } catch (const YAML::Exception& e) {
        SourceLocation l{file, 0, 0};
        if (!e.mark.is_null()) l = {file, e.mark.line + 1, e.mark.column + 1};
        diags.push_back(Diagnostic{Severity::error, l, "", "", fmt::format("YAML syntax error: {}", e.msg)});
        return std::nullopt;
    }
}

void YamlReader::begin_object(std::string object, FieldLocations* locs) {
    object_ = std::move(object);
    locs_ = locs;
}

SourceLocation YamlReader::loc(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    // An empty value has no text of its own (its mark is wherever the next token is): point at its key.
    if (n.IsNull())
        for (const auto& [value, key_mark] : null_values_)
            if (value.is(n)) m = key_mark;
    if (m.is_null()) return {file_, 0, 0};
    return {file_, m.line + 1, m.column + 1};
}

void YamlReader::error(const YAML::Node& at, const std::string& field, std::string message) {
    diags_.push_back(Diagnostic{Severity::error, loc(at), object_, field, std::move(message)});
}

void YamlReader::record(const std::string& field, const YAML::Node& n) {
    if (locs_ != nullptr) (*locs_)[field] = loc(n);
}

bool YamlReader::check_map(const YAML::Node& n, const std::string& field,
                           std::initializer_list<std::string_view> allowed) {
    if (!n.IsMap()) {
        error(n, field, fmt::format("must be a mapping, got {}", describe(n)));
        return false;
    }
    record(field, n);
    std::map<std::string, YAML::Node> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
        // A copy: it-> yields a proxy that dies with this statement (a Node is a cheap handle).
        const YAML::Node key = it->first;
        if (!key.IsScalar()) {
            error(key, field, "keys must be plain strings");
            continue;
        }
        const std::string& k = key.Scalar();
        std::string child = field.empty() ? k : field + "." + k;
        if (auto prev = seen.find(k); prev != seen.end()) {
            SourceLocation p = loc(prev->second);
            error(key, child, fmt::format("duplicate key '{}' (first at line {}, column {})", k, p.line, p.column));
            continue;
        }
        seen.emplace(k, key);
        if (allowed.size() > 0 && std::find(allowed.begin(), allowed.end(), k) == allowed.end())
            error(key, child, fmt::format("unknown key '{}' (expected one of: {})", k, join(allowed)));
    }
    return true;
}

std::optional<YAML::Node> YamlReader::find(const YAML::Node& map, std::string_view key) {
    if (!map.IsMap()) return std::nullopt;
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (!it->first.IsScalar() || it->first.Scalar() != key) continue;
        if (it->second.IsNull()) null_values_.emplace_back(it->second, it->first.Mark());
        return it->second;
    }
    return std::nullopt;
}

std::optional<YAML::Node> YamlReader::section(const YAML::Node& map, std::string_view key) {
    auto v = find(map, key);
    if (!v || v->IsNull()) return std::nullopt;
    return v;
}

std::string YamlReader::path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& v, const std::string& field) {
    if (v.IsNull()) {
        error(v, field, "has no value");
        return std::nullopt;
    }
    if (!v.IsScalar()) {
        error(v, field, fmt::format("must be a string, got {}", describe(v)));
        return std::nullopt;
    }
    record(field, v);
    return v.Scalar();
}

void YamlReader::string_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                              std::string& out) {
    if (auto v = find(map, key))
        if (auto s = scalar(*v, path(parent, key))) out = *s;
}

void YamlReader::string_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                              std::optional<std::string>& out) {
    if (auto v = find(map, key))
        if (auto s = scalar(*v, path(parent, key))) out = *s;
}

void YamlReader::bool_field(const YAML::Node& map, const std::string& parent, std::string_view key, bool& out) {
    auto v = find(map, key);
    if (!v) return;
    std::string field = path(parent, key);
    auto s = scalar(*v, field);
    if (!s) return;
    if (*s == "true" || *s == "True" || *s == "TRUE") out = true;
    else if (*s == "false" || *s == "False" || *s == "FALSE") out = false;
    else error(*v, field, fmt::format("must be true or false, got '{}'", *s));
}

void YamlReader::duration_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                                std::chrono::seconds& out) {
    auto v = find(map, key);
    if (!v) return;
    std::string field = path(parent, key);
    auto s = scalar(*v, field);
    if (!s) return;
    if (auto d = parse_duration(*s)) out = *d;
    else error(*v, field, fmt::format("'{}' is not a duration: write e.g. 90s, 15m, 1h or 1h30m", *s));
}

void YamlReader::number_field(const YAML::Node& map, const std::string& parent, std::string_view key,
                              double& out) {
    auto v = find(map, key);
    if (!v) return;
    std::string field = path(parent, key);
    auto s = scalar(*v, field);
    if (!s) return;
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(s->c_str(), &end);
    if (s->empty() || end != s->c_str() + s->size() || errno != 0 || d != d)
        error(*v, field, fmt::format("must be a number, got '{}'", *s));
    else out = d;
}

std::optional<std::vector<std::string>> YamlReader::string_list(const YAML::Node& v, const std::string& field) {
    if (v.IsScalar()) {
        record(field, v);
        return std::vector<std::string>{v.Scalar()};
    }
    if (!v.IsSequence()) {
        error(v, field, fmt::format("must be a string or a list of strings, got {}", describe(v)));
        return std::nullopt;
    }
    record(field, v);
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::string item = fmt::format("{}[{}]", field, i);
        if (v[i].IsScalar()) {
            record(item, v[i]);
            out.push_back(v[i].Scalar());
        } else {
            error(v[i], item, fmt::format("must be a string, got {}", describe(v[i])));
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

void YamlReader::string_map(const YAML::Node& v, const std::string& field, std::map<std::string, std::string>& out) {
    if (v.IsNull()) return;
    if (!check_map(v, field, {})) return;
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        std::string item = path(field, it->first.Scalar());
        if (auto s = scalar(it->second, item)) out.emplace(it->first.Scalar(), *s);
    }
}

}  // namespace credgate::policy::detail
