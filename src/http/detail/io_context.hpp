// SPDX-License-Identifier: Apache-2.0
// Inside src/http only: reaches the io_context behind an EventLoop. Other modules must not
// include this header (it pulls in Asio).
#pragma once

#include "http/event_loop.hpp"

#include <boost/asio/io_context.hpp>

namespace credgate::http::detail {

struct EventLoopAccess {
    static boost::asio::io_context& io(EventLoop& loop);
};

inline boost::asio::io_context& io_context(EventLoop& loop) { return EventLoopAccess::io(loop); }

}  // namespace credgate::http::detail
