// SPDX-License-Identifier: Apache-2.0
// Creates the Beast/Asio implementation of http::Client, and a blocking one-shot fetch for the CLI.
// URLs: http://host[:port]/path, https://host[:port]/path, and unix:/path/to/socket:/request/path
// (plain HTTP over a unix stream socket; the socket path ends at the first ":/").
#pragma once

#include "http/client.hpp"

#include <memory>
#include <optional>
#include <string>

namespace credgate::runtime {
class EventLoop;
}

namespace credgate::http {

inline constexpr size_t kDefaultMaxInFlightPerHost = 4;
inline constexpr Duration kDefaultKeepAliveIdle{std::chrono::seconds{30}};
inline constexpr int kDefaultMaxRedirects = 3;
inline constexpr Duration kDefaultMaxQueueWait{std::chrono::minutes{10}};

struct ClientOptions {
    // PEM bundle of trusted CAs for https; the system's default verify paths when unset.
    std::optional<std::string> ca_file;
    // Concurrent exchanges per scheme+host+port; further requests wait in FIFO order. A request's
    // own deadline (Request::timeout) starts when it is sent; the wait for a slot is bounded by
    // max_queue_wait instead.
    size_t max_in_flight_per_host = kDefaultMaxInFlightPerHost;
    Duration max_queue_wait = kDefaultMaxQueueWait;
    // An idle keep-alive connection is closed after this long; zero disables connection reuse.
    Duration keep_alive_idle = kDefaultKeepAliveIdle;
    // 307 and 308 are followed (same method and body) at most this many times.
    int max_redirects = kDefaultMaxRedirects;
};

// The client must outlive no loop: destroy it before the EventLoop. Completions run on the loop.
// Fails (ErrorKind::config) only when TLS setup is impossible, e.g. an unreadable ca_file.
Result<std::unique_ptr<Client>> make_client(runtime::EventLoop& loop, ClientOptions options = {});

// One exchange on a private loop, blocking until it completes (for credgatectl).
Result<Response> fetch_sync(Request request, ClientOptions options = {});

}  // namespace credgate::http
