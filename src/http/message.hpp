// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 messages from bytes, with the parsers, limits and error mapping of the server and the
// client but no socket: one request as the server reads it, one response and its redirect as the
// client follows it.
#pragma once

#include "common/result.hpp"
#include "common/url.hpp"
#include "http/client.hpp"
#include "http/server.hpp"

#include <optional>
#include <string_view>

namespace credgate::http {

// One request read from a connection that sent `bytes` and then closed its side.
struct ParsedRequest {
    std::optional<ServerRequest> request;   // a complete request, as the handler gets it
    std::optional<ServerResponse> refusal;  // otherwise what the server answers (413, 431, 400), if anything
    bool keep_alive = false;                // the connection stays open after the response
};
ParsedRequest parse_request(std::string_view bytes, const ServerOptions& options = {});

// One response to a `method` request read from a connection that sent `bytes` and then closed;
// `authority` names the server in errors. Errors are ErrorKind::protocol for a response over a
// limit or malformed, ErrorKind::transport for one cut short.
Result<Response> parse_response(std::string_view bytes, std::string_view method, std::string_view authority,
                                size_t body_limit = kDefaultResponseBodyLimit);

// Where a 307/308 with a Location sends the client from `current`: nothing for a response that is
// not such a redirect, an error past `max_redirects` (`redirects` were followed before) or for a
// redirect from https to another scheme. `original` names the first URL of the chain in errors.
Result<std::optional<Url>> redirect_target(const Url& current, const Response& response, int redirects,
                                           int max_redirects, std::string_view original);

}  // namespace credgate::http
