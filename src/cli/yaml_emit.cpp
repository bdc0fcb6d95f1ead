// SPDX-License-Identifier: Apache-2.0
// JSON to YAML over rapidjson: mappings and sequences in block style, scalars plain when safe.
#include "cli/yaml_emit.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <cctype>
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

void emit(std::string& out, const rapidjson::Value& v, int indent);

void emit_member_value(std::string& out, const rapidjson::Value& v, int indent) {
    if (is_empty_collection(v)) {
        out += v.IsObject() ? " {}\n" : " []\n";
    } else if (v.IsObject()) {
        out += "\n";
        emit(out, v, indent + 2);
    } else if (v.IsArray()) {
        out += "\n";
        emit(out, v, indent);  // sequences inside a mapping at the key's indentation, as kubectl does
    } else {
        out += " " + scalar(v) + "\n";
    }
}

void emit(std::string& out, const rapidjson::Value& v, int indent) {
    const std::string pad(static_cast<size_t>(indent), ' ');
    if (v.IsObject()) {
        for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
            out += pad + scalar(it->name) + ":";
            emit_member_value(out, it->value, indent);
        }
    } else if (v.IsArray()) {
        for (const auto& item : v.GetArray()) {
            if (item.IsObject() && item.MemberCount() > 0) {
                std::string nested;
                emit(nested, item, indent + 2);
                // The first line of the item follows "- ".
                out += pad + "- " + nested.substr(static_cast<size_t>(indent) + 2);
            } else if (item.IsArray() && !item.Empty()) {
                out += pad + "-\n";
                emit(out, item, indent + 2);
            } else {
                out += pad + "- " + (is_empty_collection(item) ? (item.IsObject() ? "{}" : "[]") : scalar(item)) + "\n";
            }
        }
    } else {
        out += pad + scalar(v) + "\n";
    }
}

}  // namespace

Result<std::string> json_to_yaml(std::string_view json) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError()) return fail(ErrorKind::protocol, "credgated sent a document that is not valid JSON");
    std::string out;
    emit(out, d, 0);
    return out;
}

}  // namespace credgate::cli
