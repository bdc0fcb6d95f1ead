// SPDX-License-Identifier: Apache-2.0
// Fuzzes Vault response decoding: one body through the login, secret (dynamic, KV v1, KV v2) and
// lease envelopes, the error body and its multierror items, the status classification with a
// Retry-After header, and every accepted secret rendered in each output format.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "delivery/output.hpp"
#include "http/client.hpp"
#include "vault/error.hpp"
#include "vault/response.hpp"

using namespace credgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    (void)vault::parse_login_response(body);
    (void)vault::parse_login_response(body, vault::Operation::renew_self);
    (void)vault::parse_lease_renewal(body);
    for (const auto& item : vault::split_multierror(body)) (void)item;
    (void)vault::decode_error_messages(body);

    if (auto secret = vault::parse_secret_response(body)) {
        for (auto format : {policy::OutputFormat::json, policy::OutputFormat::raw, policy::OutputFormat::env}) {
            policy::BindingOutput output;
            output.format = format;
            if (format == policy::OutputFormat::raw) output.field = "api_key";
            (void)delivery::render(output, secret->data_json, secret->string_fields);
        }
    }

    // The first line doubles as a Retry-After value, the whole input as the error body.
    const std::string retry_after(body.substr(0, body.find('\n')));
    (void)vault::parse_retry_after(retry_after);
    vault::ErrorContext context;
    context.path = "openai/creds/agent";
    context.mount = "jwt";
    context.role = "agent";
    for (auto op : {vault::Operation::login, vault::Operation::read, vault::Operation::renew_lease}) {
        context.operation = op;
        for (int status : {307, 400, 403, 404, 429, 500, 503}) {
            http::Response response;
            response.status = status;
            response.headers.emplace_back("Retry-After", retry_after);
            response.headers.emplace_back("Location", retry_after);
            response.body = std::string(body);
            (void)vault::classify_response(response, context).describe();
        }
    }
    return 0;
}
