// SPDX-License-Identifier: Apache-2.0
// Inside src/runtime and src/http only: reaches the io_context behind an EventLoop. Other modules
// must not include this header (it pulls in Asio); tools/scripts/check-layers refuses them.
#pragma once

#include "runtime/event_loop.hpp"

#include <boost/asio/io_context.hpp>

namespace credgate::runtime::detail {

struct EventLoopAccess {
    static boost::asio::io_context& io(EventLoop& loop);
};

inline boost::asio::io_context& io_context(EventLoop& loop) { return EventLoopAccess::io(loop); }

}  // namespace credgate::runtime::detail
