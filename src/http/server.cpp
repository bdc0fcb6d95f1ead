// SPDX-License-Identifier: Apache-2.0
// The Beast/Asio http::Server: accept loops for TCP, TLS and unix sockets, one session per
// connection with a fresh parser per request and a timer bounding every wait.
#include "http/server.hpp"

#include "common/log.hpp"
#include "http/detail/beast.hpp"
#include "http/detail/message.hpp"
#include "runtime/detail/io_context.hpp"
#include "runtime/event_loop.hpp"


#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>

namespace credgate::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

}  // namespace

std::optional<std::string> ServerRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

ServerResponse text_response(int status, std::string body, std::string content_type) {
    ServerResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", std::move(content_type));
    r.body = std::move(body);
    return r;
}

// What a Responder points at: the session waiting for this one response.
struct Responder::State {
    std::function<void(ServerResponse)> deliver;  // empty once used or once the session is gone
};

void Responder::operator()(ServerResponse response) const {
    if (!state_ || !state_->deliver) return;
    auto deliver = std::move(state_->deliver);
    state_->deliver = nullptr;
    deliver(std::move(response));
}

namespace {

using TlsStream = ssl::stream<tcp::socket>;
constexpr std::chrono::seconds kPressureLogInterval{10};

struct ServerCore {
    ServerCore(net::io_context& i, ServerOptions o, Handler h) : io(i), options(std::move(o)), handler(std::move(h)) {}
    net::io_context& io;
    ServerOptions options;
    Handler handler;
    std::optional<ssl::context> tls;
    size_t accepted = 0;
    size_t open_sessions = 0;
    bool closed = false;
    // One per live session, oldest first: how to close it, and whether it holds no request now (its
    // first request, or the next on a kept-alive connection, is not yet read in full).
    struct Live {
        std::function<void()> close;
        std::function<bool()> awaiting_request;
    };
    std::list<Live> sessions;
    // Connections closed at the limit since the last line that said so (one line per 10 s at most).
    size_t pressure_unlogged = 0;
    std::chrono::steady_clock::time_point pressure_logged{};
};

template <typename Socket>
auto& lowest(Socket& s) {
    if constexpr (std::is_same_v<Socket, TlsStream>)
        return s.lowest_layer();
    else
        return s;
}

template <typename Socket>
class Session : public std::enable_shared_from_this<Session<Socket>> {
public:
    Session(std::shared_ptr<ServerCore> core, Socket socket, std::optional<PeerCredentials> peer, std::string remote)
        : core_(std::move(core)), socket_(std::move(socket)), timer_(core_->io), peer_(peer), remote_(std::move(remote)) {}

    ~Session() {
        if (live_) core_->sessions.erase(*live_);
        --core_->open_sessions;
    }

    void start() {
        ++core_->open_sessions;
        std::weak_ptr<Session> weak = this->shared_from_this();
        core_->sessions.push_back({[weak] {
                                       if (auto s = weak.lock()) s->close();
                                   },
                                   [weak] {
                                       auto s = weak.lock();
                                       return s && !s->closed_ && s->awaiting_request_;
                                   }});
        live_ = std::prev(core_->sessions.end());
        awaiting_request_ = true;
        if constexpr (std::is_same_v<Socket, TlsStream>) {
            arm(core_->options.handshake_timeout);
            auto self = this->shared_from_this();
            socket_.async_handshake(ssl::stream_base::server, [self](const error_code& ec) {
                if (ec) {
                    log::debug("http", "TLS handshake with {} failed: {}", self->remote_, ec.message());
                    return self->close();
                }
                self->wait_for_request(true);
            });
        } else {
            wait_for_request(true);
        }
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        auto keep = this->shared_from_this();  // clearing the Responder below may drop the last owner
        if (auto r = responder_.lock()) r->deliver = nullptr;  // drops the Responder's hold on us
        timer_.cancel();
        error_code ignored;
        lowest(socket_).shutdown(net::socket_base::shutdown_both, ignored);
        lowest(socket_).close(ignored);
    }

private:
    // Any expiry closes the socket, which completes the pending operation with an error.
    void arm(Duration d) {
        timer_.expires_after(d);
        std::weak_ptr<Session> weak = this->shared_from_this();
        timer_.async_wait([weak](const error_code& ec) {
            if (ec) return;
            if (auto s = weak.lock()) s->close();
        });
    }

    // A new connection gets the read timeout for its first header, a kept-alive one the idle
    // timeout; the body then gets the read timeout. The header is read on its own so an oversized
    // Content-Length is refused before any body byte is buffered.
    void wait_for_request(bool first) {
        if (closed_) return;
        parser_.emplace();
        detail::limit_request_parser(*parser_, core_->options);
        arm(first ? core_->options.read_timeout : core_->options.idle_timeout);
        awaiting_request_ = true;
        auto self = this->shared_from_this();
        bhttp::async_read_header(socket_, buffer_, *parser_, [self](const error_code& ec, size_t) {
            if (ec || self->closed_) return self->on_read(ec);
            if (detail::declared_length_exceeds(self->parser_->content_length(), self->core_->options.max_body_bytes))
                return self->on_read(bhttp::error::body_limit);
            self->arm(self->core_->options.read_timeout);
            bhttp::async_read(self->socket_, self->buffer_, *self->parser_,
                              [self](const error_code& rec, size_t) { self->on_read(rec); });
        });
    }

    void on_read(const error_code& ec) {
        if (closed_) return;
        if (ec == bhttp::error::end_of_stream || ec == net::error::eof) return close();
        if (ec) {
            if (auto refusal = detail::request_read_refusal(ec, core_->options)) return reply_error(std::move(*refusal));
            return close();
        }

        auto& msg = parser_->get();
        ServerRequest request = detail::to_server_request(msg);
        request.peer = peer_;
        request.remote = remote_;
        if constexpr (std::is_same_v<Socket, TlsStream>) {
            if (const char* sni = SSL_get_servername(socket_.native_handle(), TLSEXT_NAMETYPE_host_name))
                request.tls_server_name = sni;
        }
        keep_alive_ = msg.keep_alive();
        head_ = msg.method() == bhttp::verb::head;

        // The Responder keeps the session alive while the handler holds it; dropping it unanswered
        // closes the connection. From here until the answer is written, the session is not evicted.
        awaiting_request_ = false;
        auto state = std::make_shared<Responder::State>();
        auto self = this->shared_from_this();
        state->deliver = [self](ServerResponse r) { self->write_response(std::move(r)); };
        responder_ = state;
        arm(core_->options.handler_timeout);
        core_->handler(request, Responder(std::move(state)));
    }

    void reply_error(ServerResponse refusal) {
        keep_alive_ = false;
        head_ = false;
        write_response(std::move(refusal));
    }

    void write_response(ServerResponse r) {
        if (closed_) return;
        responder_.reset();
        res_ = {};
        res_.version(11);
        res_.result(static_cast<unsigned>(r.status));
        for (const auto& [k, v] : r.headers) res_.set(k, v);
        if (head_) {
            res_.content_length(r.body.size());
        } else {
            res_.body() = std::move(r.body);
            res_.prepare_payload();
        }
        bool closing = !keep_alive_ || core_->closed;
        res_.keep_alive(!closing);
        arm(core_->options.write_timeout);
        auto self = this->shared_from_this();
        bhttp::async_write(socket_, res_, [self, closing](const error_code& ec, size_t) {
            if (ec || closing || self->closed_) return self->close();
            self->wait_for_request(false);
        });
    }

    std::shared_ptr<ServerCore> core_;
    Socket socket_;
    net::steady_timer timer_;
    std::optional<PeerCredentials> peer_;
    std::string remote_;
    boost::beast::flat_buffer buffer_;
    std::optional<detail::RequestParser> parser_;
    bhttp::response<bhttp::string_body> res_;
    std::weak_ptr<Responder::State> responder_;
    std::optional<std::list<ServerCore::Live>::iterator> live_;
    bool awaiting_request_ = false;
    bool keep_alive_ = false;
    bool head_ = false;
    bool closed_ = false;
};

Result<tcp::endpoint> parse_listen(net::io_context& io, const std::string& listen) {
    auto bad = [&](const std::string& why) {
        return fail(ErrorKind::config, "invalid listen address '" + listen + "': " + why);
    };
    std::string host;
    std::string port_text;
    if (listen.starts_with('[')) {
        auto close = listen.find("]:");
        if (close == std::string::npos) return bad("expected [ipv6]:port");
        host = listen.substr(1, close - 1);
        port_text = listen.substr(close + 2);
    } else {
        auto colon = listen.rfind(':');
        if (colon == std::string::npos) return bad("expected host:port or an absolute socket path");
        host = listen.substr(0, colon);
        port_text = listen.substr(colon + 1);
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
        return bad("invalid port");
    error_code aec;
    auto address = net::ip::make_address(host, aec);
    if (!aec) return tcp::endpoint(address, static_cast<uint16_t>(port));
    // A name (e.g. "localhost"): resolved once, at startup.
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port_text, aec);
    if (aec || results.empty()) return bad("cannot resolve '" + host + "': " + aec.message());
    return results.begin()->endpoint();
}

class BeastServer final : public Server {
public:
    BeastServer(std::shared_ptr<ServerCore> core) : core_(std::move(core)), tcp_acceptor_(core_->io), unix_acceptor_(core_->io) {}
    ~BeastServer() override { close(); }

    Result<void> listen() {
        const auto& listen = core_->options.listen;
        if (listen.starts_with('/')) return listen_unix(listen);
        auto endpoint = parse_listen(core_->io, listen);
        if (!endpoint) return fail(endpoint.error());
        error_code ec;
        auto step = [&](const char* what) {
            return fail(ErrorKind::unavailable, std::string("cannot ") + what + " '" + listen + "': " + ec.message());
        };
        tcp_acceptor_.open(endpoint->protocol(), ec);
        if (ec) return step("open a socket for");
        tcp_acceptor_.set_option(net::socket_base::reuse_address(true), ec);
        tcp_acceptor_.bind(*endpoint, ec);
        if (ec) return step("bind");
        tcp_acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return step("listen on");
        auto local = tcp_acceptor_.local_endpoint(ec);
        port_ = local.port();
        local_ = local.address().is_v6() ? "[" + local.address().to_string() + "]:" + std::to_string(port_)
                                         : local.address().to_string() + ":" + std::to_string(port_);
        accept_tcp();
        return {};
    }

    uint16_t port() const override { return port_; }
    std::string local_address() const override { return local_; }
    size_t accepted_connections() const override { return core_->accepted; }
    size_t open_connections() const override { return core_->open_sessions; }

    void close() override {
        if (core_->closed) return;
        core_->closed = true;
        error_code ignored;
        tcp_acceptor_.close(ignored);
        unix_acceptor_.close(ignored);
        auto sessions = core_->sessions;  // closing erases entries
        for (auto& s : sessions) s.close();
        if (!socket_path_.empty()) {
            struct stat st {};
            if (::lstat(socket_path_.c_str(), &st) == 0 && st.st_ino == socket_inode_) ::unlink(socket_path_.c_str());
        }
    }

private:
    Result<void> listen_unix(const std::string& path) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode))
                return fail(ErrorKind::config, "cannot listen on '" + path + "': a non-socket file exists there");
            if (::unlink(path.c_str()) != 0)
                return fail(ErrorKind::unavailable, "cannot remove stale socket '" + path + "': " + std::strerror(errno));
        }
        error_code ec;
        auto step = [&](const char* what) {
            return fail(ErrorKind::unavailable, std::string("cannot ") + what + " '" + path + "': " + ec.message());
        };
        unix_acceptor_.open(unix_socket(), ec);
        if (ec) return step("open a socket for");
        // The socket file must never be connectable by others, not even between bind and chmod.
        mode_t old = ::umask(0177);
        unix_acceptor_.bind(unix_socket::endpoint(path), ec);
        ::umask(old);
        if (ec) return step("bind");
        if (::chmod(path.c_str(), 0600) != 0) {
            ec.assign(errno, boost::system::system_category());
            return step("chmod 0600");
        }
        unix_acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return step("listen on");
        if (::lstat(path.c_str(), &st) == 0) socket_inode_ = st.st_ino;
        socket_path_ = path;
        local_ = path;
        accept_unix();
        return {};
    }

    // At the connection limit, a new connection takes the place of the oldest one that holds no
    // request (a slow or silent client: its request is not read in full yet, or it idles between
    // requests); when every connection is busy with a request, the new one is refused. Either way
    // the server keeps accepting, so a flood of slow clients cannot shut out a client that asks promptly.
    bool admit() {
        ++core_->accepted;
        if (core_->open_sessions < core_->options.max_connections) return true;
        bool evicted = false;
        for (auto& live : core_->sessions) {
            if (live.awaiting_request()) {
                auto close = live.close;  // closing may end the session and erase `live`
                close();
                evicted = true;
                break;
            }
        }
        const auto now = std::chrono::steady_clock::now();
        ++core_->pressure_unlogged;
        if (now - core_->pressure_logged >= kPressureLogInterval) {
            log::warning("http",
                         "Connection limit ({}) reached on {}: {} ({} connection(s) closed at the limit since "
                         "the last such message)",
                         core_->options.max_connections, local_,
                         evicted ? "closed the oldest connection that holds no request, to accept a new one"
                                 : "refused a new connection, every open one is serving a request",
                         core_->pressure_unlogged);
            core_->pressure_logged = now;
            core_->pressure_unlogged = 0;
        }
        return evicted;
    }

    void accept_tcp() {
        std::weak_ptr<ServerCore> weak = core_;
        tcp_acceptor_.async_accept([this, weak](const error_code& ec, tcp::socket socket) {
            auto core = weak.lock();
            if (!core || core->closed) return;
            if (!ec && admit()) {
                error_code rec;
                auto ep = socket.remote_endpoint(rec);
                std::string remote = rec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
                if (core->tls) {
                    std::make_shared<Session<TlsStream>>(core, TlsStream(std::move(socket), *core->tls), std::nullopt,
                                                         std::move(remote))
                        ->start();
                } else {
                    std::make_shared<Session<tcp::socket>>(core, std::move(socket), std::nullopt, std::move(remote))->start();
                }
            } else if (ec) {
                log::warning("http", "Failed to accept on {}: {}", local_, ec.message());
            }
            accept_tcp();
        });
    }

    void accept_unix() {
        std::weak_ptr<ServerCore> weak = core_;
        unix_acceptor_.async_accept([this, weak](const error_code& ec, unix_socket::socket socket) {
            auto core = weak.lock();
            if (!core || core->closed) return;
            if (!ec && admit()) {
                ucred cred{};
                socklen_t len = sizeof cred;
                std::optional<PeerCredentials> peer;
                if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                    peer = PeerCredentials{cred.pid, cred.uid, cred.gid};
                std::make_shared<Session<unix_socket::socket>>(core, std::move(socket), peer, "unix")->start();
            } else if (ec) {
                log::warning("http", "Failed to accept on {}: {}", local_, ec.message());
            }
            accept_unix();
        });
    }

    std::shared_ptr<ServerCore> core_;
    tcp::acceptor tcp_acceptor_;
    unix_socket::acceptor unix_acceptor_;
    uint16_t port_ = 0;
    std::string local_;
    std::string socket_path_;
    ino_t socket_inode_ = 0;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::create(runtime::EventLoop& loop, ServerOptions options, Handler handler) {
    if (!handler) return fail(ErrorKind::internal, "server for '" + options.listen + "' has no handler");
    if (options.tls_cert.has_value() != options.tls_key.has_value())
        return fail(ErrorKind::config, "TLS for '" + options.listen + "' needs both a certificate and a key");
    if (options.tls_cert && options.listen.starts_with('/'))
        return fail(ErrorKind::config, "TLS is not supported on unix socket '" + options.listen + "'");
    auto core = std::make_shared<ServerCore>(runtime::detail::io_context(loop), std::move(options), std::move(handler));
    if (core->options.tls_cert) {
        core->tls.emplace(ssl::context::tls_server);
        error_code ec;
        core->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                               ec);
        core->tls->use_certificate_chain_file(*core->options.tls_cert, ec);
        if (ec)
            return fail(ErrorKind::config, "cannot load TLS certificate '" + *core->options.tls_cert +
                                               "': " + ec.message());
        core->tls->use_private_key_file(*core->options.tls_key, ssl::context::pem, ec);
        if (ec)
            return fail(ErrorKind::config, "cannot load TLS key '" + *core->options.tls_key + "': " +
                                               ec.message());
    }
    auto server = std::make_unique<BeastServer>(core);
    if (auto r = server->listen(); !r) return fail(r.error());
    return std::unique_ptr<Server>(std::move(server));
}

}  // namespace credgate::http
