// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 server on the event loop: TCP (optionally TLS) or a root-only unix socket, with a
// named limit or timeout on every read and write.
#pragma once

#include "common/result.hpp"
#include "http/client.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace credgate::runtime {
class EventLoop;
}

namespace credgate::http {

inline constexpr size_t kServerMaxHeaderBytes = 16 * 1024;
inline constexpr size_t kServerMaxBodyBytes = 1 << 20;
inline constexpr Duration kServerReadTimeout{std::chrono::seconds{10}};      // one whole request
inline constexpr Duration kServerWriteTimeout{std::chrono::seconds{10}};     // one whole response
inline constexpr Duration kServerIdleTimeout{std::chrono::seconds{60}};      // between keep-alive requests
inline constexpr Duration kServerHandshakeTimeout{std::chrono::seconds{10}}; // TLS handshake
inline constexpr Duration kServerHandlerTimeout{std::chrono::seconds{60}};   // handler to respond
inline constexpr size_t kServerMaxConnections = 256;

struct ServerOptions {
    // Either "host:port" ("[::1]:port" for IPv6; port 0 picks a free port) or a unix socket path
    // starting with '/'. A unix socket is created with mode 0600; a stale socket file is replaced,
    // any other file at that path is an error.
    std::string listen;
    // HTTPS when both are set (TCP only).
    std::optional<std::string> tls_cert;  // PEM chain
    std::optional<std::string> tls_key;   // PEM private key
    size_t max_header_bytes = kServerMaxHeaderBytes;
    size_t max_body_bytes = kServerMaxBodyBytes;
    Duration read_timeout = kServerReadTimeout;
    Duration write_timeout = kServerWriteTimeout;
    Duration idle_timeout = kServerIdleTimeout;
    Duration handshake_timeout = kServerHandshakeTimeout;
    Duration handler_timeout = kServerHandlerTimeout;
    size_t max_connections = kServerMaxConnections;
};

// Credentials of the process on the other end of a unix socket (SO_PEERCRED at accept).
struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

struct ServerRequest {
    std::string method;
    std::string target;  // as sent: path?query
    std::string path;    // target before '?'
    std::string query;   // target after '?', without it; not decoded
    Headers headers;
    std::string body;
    std::optional<PeerCredentials> peer;  // unix sockets only
    std::string remote;                   // "ip:port" or "unix"
    std::string tls_server_name;          // SNI the client sent (TLS only; empty without SNI)

    std::optional<std::string> header(std::string_view name) const;
};

struct ServerResponse {
    int status = 200;
    Headers headers;  // Content-Length is set by the server
    std::string body;
};

// Completes one request. Copyable; only the first call counts, and a call after the connection
// has gone is ignored. Must be called on the loop thread.
class Responder {
public:
    struct State;
    explicit Responder(std::shared_ptr<State> state) : state_(std::move(state)) {}
    void operator()(ServerResponse response) const;

private:
    std::shared_ptr<State> state_;
};

// Called on the loop for every complete request; respond now or later through the Responder.
using Handler = std::function<void(const ServerRequest&, Responder)>;

class Server {
public:
    virtual ~Server() = default;
    // Starts listening and accepting. Errors name the address and the failing step.
    static Result<std::unique_ptr<Server>> create(runtime::EventLoop& loop, ServerOptions options, Handler handler);

    // The bound TCP port (0 for unix sockets).
    virtual uint16_t port() const = 0;
    // "127.0.0.1:41234" or the socket path.
    virtual std::string local_address() const = 0;
    // Connections accepted so far (tests use this to observe keep-alive reuse).
    virtual size_t accepted_connections() const = 0;
    // Connections currently open.
    virtual size_t open_connections() const = 0;
    // Stops accepting and closes every connection (also done by the destructor).
    virtual void close() = 0;
};

// A plain-text or JSON response in one line.
ServerResponse text_response(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");

}  // namespace credgate::http
