// SPDX-License-Identifier: Apache-2.0
// Fuzzes what credgated's HTTP client makes of a response's bytes: status line, headers, chunked
// and read-to-close bodies under the body limit, for GET and HEAD, and where a 307/308 leads from
// an http and an https URL.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/url.hpp"
#include "http/message.hpp"

using namespace credgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Url bases[] = {*parse_url("http://127.0.0.1:8200/v1/openai/creds/agent"),
                                *parse_url("https://vault.example.org/v1/auth/jwt/login")};
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (auto method : {"GET", "HEAD"}) {
        auto response = http::parse_response(bytes, method, "vault.example.org", 4096);
        if (!response) {
            if (response.error().message.empty()) __builtin_trap();
            continue;
        }
        if (response->body.size() > 4096) __builtin_trap();
        for (const auto& base : bases) {
            for (int redirects : {0, 3}) {
                auto next = http::redirect_target(base, *response, redirects, 3, base.to_string());
                if (next && *next && base.scheme == Url::Scheme::https && (*next)->scheme != Url::Scheme::https)
                    __builtin_trap();
            }
        }
    }
    return 0;
}
