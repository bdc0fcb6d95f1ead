// SPDX-License-Identifier: Apache-2.0
// Fuzzes what credgated's HTTP servers make of a request's bytes: the request read with the
// issuer's limits (no body) and the default ones (/metrics, the control socket), the issuer's
// answer to it (discovery document, JWKS, 405, 404), and the control API's query parameters.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "daemon/control_query.hpp"
#include "http/message.hpp"
#include "issuer/issuer.hpp"
#include "issuer/issuer_service.hpp"
#include "runtime/event_loop.hpp"

using namespace credgate;

namespace {

struct Fixture {
    runtime::EventLoop loop;
    std::unique_ptr<issuer::Issuer> issuer;
    http::ServerOptions issuer_options;

    Fixture() {
        issuer::IssuerOptions options;
        options.settings.url = "http://127.0.0.1:8421";
        options.trust_domain = "example.org";
        auto created = issuer::Issuer::create(options, loop.clock());
        if (!created) __builtin_trap();
        issuer = std::move(*created);
        issuer_options = issuer::server_options(options.settings);
    }
};

void control_query(const http::ServerRequest& request) {
    for (const auto& param : daemon::query_params(request.query)) {
        if (!param.value) continue;
        uint64_t number = 0;
        (void)std::from_chars(param.value->data(), param.value->data() + param.value->size(), number);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture fixture;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    auto for_issuer = http::parse_request(bytes, fixture.issuer_options);
    if (for_issuer.request) {
        auto response = issuer::serve_request(*fixture.issuer, *for_issuer.request);
        if (response.status != 200 && response.status != 404 && response.status != 405) __builtin_trap();
    } else if (for_issuer.refusal && for_issuer.refusal->status != 400 && for_issuer.refusal->status != 413 &&
               for_issuer.refusal->status != 431) {
        __builtin_trap();
    }

    auto for_control = http::parse_request(bytes);
    if (for_control.request) control_query(*for_control.request);
    return 0;
}
