// SPDX-License-Identifier: Apache-2.0
// What the server and the client make of one parsed message, shared by their socket code and by
// the pure parsers of message.hpp: the limits set on a parser, the message copied out, and what a
// failed read means. Private to src/http.
#pragma once

#include "common/result.hpp"
#include "http/client.hpp"
#include "http/detail/beast.hpp"
#include "http/server.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace credgate::http::detail {

// Response headers larger than this are a protocol error (Vault's are a few hundred bytes).
inline constexpr uint32_t kClientMaxHeaderBytes = 64 * 1024;

using RequestParser = bhttp::request_parser<bhttp::string_body>;
using ResponseParser = bhttp::response_parser<bhttp::string_body>;

// A fresh parser for one request, with the server's header and body limits.
void limit_request_parser(RequestParser& parser, const ServerOptions& options);
// A fresh parser for one response, with the client's header limit and the request's body limit.
void limit_response_parser(ResponseParser& parser, std::string_view method, size_t body_limit);

// Once the header is in: a declared Content-Length over the limit is refused before any body byte
// is buffered (Boost 1.74's parser misses it when header and body arrive in one buffer).
bool declared_length_exceeds(const boost::optional<std::uint64_t>& content_length, size_t limit);

// The request as handlers see it (the body is moved out); peer, remote and SNI are the caller's.
ServerRequest to_server_request(bhttp::request<bhttp::string_body>& msg);
// The response as callers see it (the body is moved out).
Response to_response(bhttp::response<bhttp::string_body>& msg);

// What the server answers a failed request read with (413, 431, 400 for a malformed or cut-short
// request), or nothing: the connection is closed without an answer (end of stream before a request,
// a reset, a timeout).
std::optional<ServerResponse> request_read_refusal(const error_code& ec, const ServerOptions& options);

// A failed response read that is the response's fault (over a limit, malformed or cut short), as
// the error the exchange ends with; nothing for a transport failure, which the caller names with
// its own step. `where` names the server (and target).
std::optional<Error> response_read_error(const error_code& ec, std::string_view where, size_t body_limit);

}  // namespace credgate::http::detail
