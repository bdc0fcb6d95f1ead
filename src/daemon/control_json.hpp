// SPDX-License-Identifier: Apache-2.0
// rapidjson helpers for the control API's documents (control_api.cpp, control_identities.cpp,
// control_audit.cpp); included only by .cpp files of the control API, never by a header.
#pragma once

#include "http/server.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::daemon::control_json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
inline void string(Writer& w, std::string_view v) {
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
inline void str(Writer& w, std::string_view k, std::string_view v) {
    key(w, k);
    string(w, v);
}
inline void u64(Writer& w, std::string_view k, uint64_t v) {
    key(w, k);
    w.Uint64(v);
}
inline void i64(Writer& w, std::string_view k, int64_t v) {
    key(w, k);
    w.Int64(v);
}
inline void boolean(Writer& w, std::string_view k, bool v) {
    key(w, k);
    w.Bool(v);
}
inline void strings(Writer& w, std::string_view k, const std::vector<std::string>& values) {
    key(w, k);
    w.StartArray();
    for (const auto& v : values) string(w, v);
    w.EndArray();
}

inline http::ServerResponse json_response(int status, std::string body) {
    return http::text_response(status, std::move(body) + "\n", "application/json");
}

// {"errors": [message]}, as every control endpoint answers a failure.
inline http::ServerResponse error_response(int status, std::string_view message) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    key(w, "errors");
    w.StartArray();
    string(w, message);
    w.EndArray();
    w.EndObject();
    return json_response(status, sb.GetString());
}

}  // namespace credgate::daemon::control_json
