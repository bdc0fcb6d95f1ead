// SPDX-License-Identifier: Apache-2.0
// Converted seed objects to YAML text: the plain-data document as JSON for yaml_emit, and each note
// placed as a wrapped comment on the deepest field of its path that is still in the document.
#include "cli/convert_render.hpp"

#include "cli/yaml_emit.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <set>

namespace credgate::cli {
namespace {

using policy::SeedValue;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Longer integers would come back from the JSON reader as doubles; as text they keep every digit.
constexpr std::size_t kMaxIntegerChars = 18;

void write(Writer& w, const SeedValue& v) {
    const auto size = [](const std::string& s) { return static_cast<rapidjson::SizeType>(s.size()); };
    switch (v.type) {
        case SeedValue::Type::null: w.Null(); return;
        case SeedValue::Type::scalar:
            switch (v.scalar_type) {
                case SeedValue::ScalarType::boolean: w.Bool(v.scalar[0] == 't' || v.scalar[0] == 'T'); return;
                case SeedValue::ScalarType::integer:
                    if (v.scalar.size() > kMaxIntegerChars) break;
                    [[fallthrough]];
                case SeedValue::ScalarType::number:
                    // seed_import checked the JSON number grammar, so the text is written as it is.
                    w.RawValue(v.scalar.data(), v.scalar.size(), rapidjson::kNumberType);
                    return;
                case SeedValue::ScalarType::text: break;
            }
            w.String(v.scalar.data(), size(v.scalar));
            return;
        case SeedValue::Type::sequence:
            w.StartArray();
            for (const auto& item : v.items) write(w, item);
            w.EndArray();
            return;
        case SeedValue::Type::mapping:
            w.StartObject();
            for (const auto& [key, value] : v.members) {
                w.Key(key.data(), size(key));
                write(w, value);
            }
            w.EndObject();
            return;
    }
}

// Every path in the document, spelt as notes and yaml_emit spell them.
void collect_paths(const SeedValue& v, const std::string& path, std::set<std::string>& out) {
    out.insert(path);
    if (v.type == SeedValue::Type::mapping)
        for (const auto& [key, value] : v.members) collect_paths(value, path.empty() ? key : path + "." + key, out);
    if (v.type == SeedValue::Type::sequence)
        for (std::size_t i = 0; i < v.items.size(); ++i) collect_paths(v.items[i], fmt::format("{}[{}]", path, i), out);
}

// The deepest prefix of `field` that names a node of the document ("" for the document itself).
std::string anchor(std::string field, const std::set<std::string>& paths) {
    while (!field.empty() && paths.count(field) == 0) {
        auto cut = field.back() == ']' ? field.rfind('[') : field.rfind('.');
        field = cut == std::string::npos ? std::string() : field.substr(0, cut);
    }
    return field;
}

std::vector<std::string> wrap(const std::string& text, std::size_t width) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        std::string word = text.substr(start, end - start);
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            lines.push_back(std::move(line));
            line = "  " + word;  // continuation lines are indented under the first
        } else {
            line += (line.empty() ? "" : " ") + word;
        }
        start = end + 1;
    }
    if (!line.empty()) lines.push_back(std::move(line));
    return lines;
}

Result<std::string> render_object(const policy::ConvertedObject& obj, std::vector<std::string> header) {
    if (!obj.document) {
        std::string out;
        for (const auto& h : header) out += "# " + h + "\n";
        for (const auto& n : obj.notes)
            for (const auto& line : wrap(fmt::format("{} (from {}:{})", note_comment(n), n.finding.location.file,
                                                     n.finding.location.line),
                                         kCommentWidth))
                out += "# " + line + "\n";
        return out;
    }
    std::set<std::string> paths;
    collect_paths(*obj.document, "", paths);
    YamlComments comments;
    comments[""] = std::move(header);
    for (const auto& n : obj.notes) {
        auto& lines = comments[anchor(n.finding.field, paths)];
        for (auto& line : wrap(note_comment(n), kCommentWidth)) lines.push_back(std::move(line));
    }
    rapidjson::StringBuffer sb;
    Writer w(sb);
    write(w, *obj.document);
    return json_to_yaml(std::string_view(sb.GetString(), sb.GetSize()), comments);
}

}  // namespace

std::string note_comment(const policy::ConversionNote& note) {
    std::string prefix;
    switch (note.kind) {
        case policy::NoteKind::changed: break;
        case policy::NoteKind::dropped: prefix = "warning: "; break;
        case policy::NoteKind::attention: prefix = "NEEDS ATTENTION: "; break;
    }
    const auto& f = note.finding;
    return fmt::format("{}{}{}", prefix, f.field.empty() ? "" : f.field + ": ", f.message);
}

Result<std::string> render_converted(const std::vector<policy::ConvertedObject>& objects, const std::string& source) {
    std::string out;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        std::vector<std::string> header;
        if (i == 0)
            header.push_back(fmt::format("Converted from {} by 'credgatectl convert'.", source));
        auto text = render_object(objects[i], std::move(header));
        if (!text) return text;
        if (i > 0) out += "---\n";
        out += *text;
    }
    return out;
}

}  // namespace credgate::cli
