// SPDX-License-Identifier: Apache-2.0
// Boost.Asio and Boost.Beast as client.cpp and server.cpp use them: the headers and the short names
// both files write. Private to src/http (tools/scripts/check-layers).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace credgate::http {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using unix_socket = net::local::stream_protocol;
using boost::system::error_code;
}  // namespace credgate::http
