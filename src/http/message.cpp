// SPDX-License-Identifier: Apache-2.0
// The message helpers the server and the client share (detail/message.hpp), and the socket-free
// parsers built on them (message.hpp).
#include "http/message.hpp"

#include "http/detail/message.hpp"
#include "http/location.hpp"

#include <boost/asio/buffer.hpp>

namespace credgate::http {

namespace detail {

void limit_request_parser(RequestParser& parser, const ServerOptions& options) {
    parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
}

void limit_response_parser(ResponseParser& parser, std::string_view method, size_t body_limit) {
    parser.header_limit(kClientMaxHeaderBytes);
    parser.body_limit(body_limit);
    if (method == "HEAD") parser.skip(true);
}

bool declared_length_exceeds(const boost::optional<std::uint64_t>& content_length, size_t limit) {
    return content_length && *content_length > limit;
}

ServerRequest to_server_request(bhttp::request<bhttp::string_body>& msg) {
    ServerRequest request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    auto q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    for (const auto& f : msg) request.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    request.body = std::move(msg.body());
    return request;
}

Response to_response(bhttp::response<bhttp::string_body>& msg) {
    Response response;
    response.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    response.body = std::move(msg.body());
    return response;
}

std::optional<ServerResponse> request_read_refusal(const error_code& ec, const ServerOptions& options) {
    // The client ended its side before a whole request (a half-closed connection): nobody to answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
    if (ec == bhttp::error::body_limit)
        return text_response(413, "request body exceeds " + std::to_string(options.max_body_bytes) + " bytes\n");
    if (ec == bhttp::error::header_limit)
        return text_response(431, "request header exceeds " + std::to_string(options.max_header_bytes) + " bytes\n");
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category())
        return text_response(400, "malformed request\n");
    return std::nullopt;
}

std::optional<Error> response_read_error(const error_code& ec, std::string_view where, size_t body_limit) {
    if (ec == bhttp::error::body_limit)
        return Error{ErrorKind::protocol, "response from " + std::string(where) + " exceeds the body limit of " +
                                              std::to_string(body_limit) + " bytes"};
    if (ec == bhttp::error::header_limit)
        return Error{ErrorKind::protocol, "response from " + std::string(where) + " exceeds the header limit of " +
                                              std::to_string(kClientMaxHeaderBytes) + " bytes"};
    if (ec == bhttp::error::partial_message)
        return Error{ErrorKind::protocol, "response from " + std::string(where) +
                                              " cut short: the connection closed before the whole body arrived "
                                              "(partial message)"};
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category())
        return Error{ErrorKind::protocol, "malformed response from " + std::string(where) + ": " + ec.message()};
    return std::nullopt;
}

}  // namespace detail

namespace {

// Feeds `rest` to `parser` as a socket read loop would, up to the end of the header
// (`header_only`) or of the message; the end of `rest` is the peer closing the connection.
template <typename Parser>
error_code feed(Parser& parser, std::string_view& rest, bool header_only) {
    for (;;) {
        if (header_only ? parser.is_header_done() : parser.is_done()) return {};
        error_code ec;
        if (!rest.empty()) {
            const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
            rest.remove_prefix(used);
            if (!ec) continue;
            if (ec != bhttp::error::need_more) return ec;
        }
        // Nothing left, or only the start of a token the parser needs more of: the peer has closed.
        if (!parser.got_some()) return bhttp::error::end_of_stream;
        parser.put_eof(ec);
        if (ec) return ec;
        if (!(header_only ? parser.is_header_done() : parser.is_done())) return bhttp::error::partial_message;
    }
}

}  // namespace

ParsedRequest parse_request(std::string_view bytes, const ServerOptions& options) {
    ParsedRequest out;
    detail::RequestParser parser;
    detail::limit_request_parser(parser, options);
    auto ec = feed(parser, bytes, true);
    if (!ec && detail::declared_length_exceeds(parser.content_length(), options.max_body_bytes))
        ec = bhttp::error::body_limit;
    if (!ec) ec = feed(parser, bytes, false);
    if (ec) {
        out.refusal = detail::request_read_refusal(ec, options);
        return out;
    }
    auto& msg = parser.get();
    out.keep_alive = msg.keep_alive();
    out.request = detail::to_server_request(msg);
    return out;
}

Result<Response> parse_response(std::string_view bytes, std::string_view method, std::string_view authority,
                                size_t body_limit) {
    detail::ResponseParser parser;
    detail::limit_response_parser(parser, method, body_limit);
    auto ec = feed(parser, bytes, true);
    if (!ec && detail::declared_length_exceeds(parser.content_length(), body_limit)) ec = bhttp::error::body_limit;
    if (!ec) ec = feed(parser, bytes, false);
    if (ec) {
        if (auto e = detail::response_read_error(ec, authority, body_limit)) return fail(std::move(*e));
        return fail(ErrorKind::transport, "read response from " + std::string(authority) + ": " + ec.message());
    }
    return detail::to_response(parser.get());
}

Result<std::optional<Url>> redirect_target(const Url& current, const Response& response, int redirects,
                                           int max_redirects, std::string_view original) {
    if (response.status != 307 && response.status != 308) return std::optional<Url>();
    auto location = response.header("Location");
    if (!location) return std::optional<Url>();
    if (redirects >= max_redirects) {
        return fail(ErrorKind::protocol, "too many redirects (more than " + std::to_string(max_redirects) +
                                             ") starting at " + std::string(original));
    }
    auto next = resolve_location(current, *location);
    if (!next) return fail(next.error());
    if (current.scheme == Url::Scheme::https && next->scheme != Url::Scheme::https) {
        return fail(ErrorKind::protocol,
                    "refusing redirect from " + current.to_string() + " to non-TLS " + next->to_string());
    }
    return std::optional<Url>(std::move(*next));
}

}  // namespace credgate::http
