// SPDX-License-Identifier: Apache-2.0
// JSON to YAML over rapidjson: mappings and sequences in block style, scalars plain when safe, comment
// lines above the nodes they are given for.
#include "cli/yaml_emit.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <string>

namespace credgate::cli {
namespace {

bool needs_quotes(std::string_view s) {
    if (s.empty()) return true;
    static const char* kReserved[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"};
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* r : kReserved)
        if (lower == r) return true;
    if (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.') {
        // Numbers, dates and times would change type.
        bool numeric_like = true;
        for (char c : s)
            if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' &&
                c != 'E' && c != ':' && c != 'T' && c != 'Z')
                numeric_like = false;
        if (numeric_like) return true;
    }
    if (std::string_view("!&*-?{}[],#|>@`\"'%:").find(s[0]) != std::string_view::npos && s[0] != '/') return true;
    if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
    if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return true;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

std::string scalar(const rapidjson::Value& v) {
    if (v.IsNull()) return "null";
    if (v.IsBool()) return v.GetBool() ? "true" : "false";
    if (v.IsString()) {
        std::string_view s(v.GetString(), v.GetStringLength());
        if (!needs_quotes(s)) return std::string(s);
    }
    // JSON's own encoding of the scalar is a valid YAML double-quoted string or number.
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v.Accept(w);
    return sb.GetString();
}

bool is_empty_collection(const rapidjson::Value& v) {
    return (v.IsObject() && v.MemberCount() == 0) || (v.IsArray() && v.Empty());
}

std::string empty_collection(const rapidjson::Value& v) { return v.IsObject() ? "{}" : "[]"; }

class Emitter {
public:
    explicit Emitter(const YamlComments& comments) : comments_(comments) {}

    // `first` replaces the indentation of the mapping's first line ("- " for an item of a list).
    void mapping(const rapidjson::Value& v, int indent, const std::string& path, const std::string& first = "") {
        const std::string pad(static_cast<size_t>(indent), ' ');
        bool is_first = true;
        for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
            std::string key(it->name.GetString(), it->name.GetStringLength());
            std::string member = path.empty() ? key : path + "." + key;
            // The first member's comments go above the "- " line: nothing may come between.
            comment(member, is_first && !first.empty() ? indent - 2 : indent);
            out_ += (is_first && !first.empty() ? first : pad) + scalar(it->name) + ":";
            member_value(it->value, indent, member);
            is_first = false;
        }
    }

    void sequence(const rapidjson::Value& v, int indent, const std::string& path) {
        const std::string pad(static_cast<size_t>(indent), ' ');
        std::size_t i = 0;
        for (const auto& item : v.GetArray()) {
            std::string entry = fmt::format("{}[{}]", path, i++);
            comment(entry, indent);
            if (item.IsObject() && item.MemberCount() > 0) {
                mapping(item, indent + 2, entry, pad + "- ");
            } else if (item.IsArray() && !item.Empty()) {
                out_ += pad + "-\n";
                sequence(item, indent + 2, entry);
            } else {
                out_ += pad + "- " + (is_empty_collection(item) ? empty_collection(item) : scalar(item)) + "\n";
            }
        }
    }

    void document(const rapidjson::Value& v) {
        comment("", 0);
        if (v.IsObject() && v.MemberCount() > 0) mapping(v, 0, "");
        else if (v.IsArray() && !v.Empty()) sequence(v, 0, "");
        else out_ += (is_empty_collection(v) ? empty_collection(v) : scalar(v)) + "\n";
    }

    std::string take() { return std::move(out_); }

private:
    void comment(const std::string& path, int indent) {
        auto it = comments_.find(path);
        if (it == comments_.end()) return;
        const std::string pad(static_cast<size_t>(indent), ' ');
        for (const auto& line : it->second) {
            // One comment line per line: a line break in the text must not end the comment.
            std::string safe;
            for (char c : line) safe += (c == '\n' || c == '\r') ? ' ' : c;
            out_ += pad + "#" + (safe.empty() ? "" : " " + safe) + "\n";
        }
    }

    void member_value(const rapidjson::Value& v, int indent, const std::string& path) {
        if (is_empty_collection(v)) {
            out_ += " " + empty_collection(v) + "\n";
        } else if (v.IsObject()) {
            out_ += "\n";
            mapping(v, indent + 2, path);
        } else if (v.IsArray()) {
            out_ += "\n";
            sequence(v, indent, path);  // sequences inside a mapping at the key's indentation, as kubectl does
        } else {
            out_ += " " + scalar(v) + "\n";
        }
    }

    const YamlComments& comments_;
    std::string out_;
};

}  // namespace

Result<std::string> json_to_yaml(std::string_view json, const YamlComments& comments) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError()) return fail(ErrorKind::protocol, "credgated sent a document that is not valid JSON");
    Emitter e(comments);
    e.document(d);
    return e.take();
}

bool print_document(std::string_view command, const std::string& json, std::string_view output) {
    if (output == "json") {
        std::fputs(json.c_str(), stdout);
        return true;
    }
    auto yaml = json_to_yaml(json);
    if (!yaml) {
        std::fprintf(stderr, "credgatectl %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                     yaml.error().message.c_str());
        return false;
    }
    std::fputs(yaml->c_str(), stdout);
    return true;
}

}  // namespace credgate::cli
