// SPDX-License-Identifier: Apache-2.0
// Private to src/vault: the one place RapidJSON is configured (iterative parsing, so a deeply
// nested hostile body cannot exhaust the stack).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace credgate::vault {

// Error bodies are one short string; a larger one is not worth decoding.
inline constexpr size_t kMaxErrorBody = 64 * 1024;

namespace json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;

inline constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

inline bool parse(Document& doc, std::string_view text) {
    doc.Parse<kParseFlags>(text.data(), text.size());
    return !doc.HasParseError();
}

inline std::string parse_error(const Document& doc) {
    return std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
           std::to_string(doc.GetErrorOffset());
}

inline std::string to_compact(const Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace json
}  // namespace credgate::vault
