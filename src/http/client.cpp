// SPDX-License-Identifier: Apache-2.0
// The Beast/Asio http::Client: per-host connection pools with bounded in-flight exchanges, TLS with
// SNI and hostname verification, one deadline per exchange (from its first send), body limits and 307/308 following.
#include "http/client.hpp"

#include "common/log.hpp"
#include "common/url.hpp"
#include "http/client_factory.hpp"
#include "http/detail/beast.hpp"
#include "http/detail/message.hpp"
#include "http/location.hpp"
#include "http/message.hpp"
#include "runtime/detail/io_context.hpp"
#include "runtime/event_loop.hpp"

#include <boost/asio/connect.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <variant>

namespace credgate::http {

inline constexpr const char* kUserAgent = "credgate/0.1";

std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < k.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
        if (same) return v;
    }
    return std::nullopt;
}

namespace {

using TlsStream = ssl::stream<tcp::socket>;
using Stream = std::variant<std::monostate, tcp::socket, TlsStream, unix_socket::socket>;

struct Connection {
    explicit Connection(net::io_context& io) : idle_timer(io) {}
    Stream stream;
    boost::beast::flat_buffer buffer;
    net::steady_timer idle_timer;
    bool reused = false;

    void close() {
        error_code ignored;
        std::visit(
            [&](auto& s) {
                if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
                } else if constexpr (std::is_same_v<std::decay_t<decltype(s)>, TlsStream>) {
                    s.lowest_layer().close(ignored);
                } else {
                    s.close(ignored);
                }
            },
            stream);
    }
    bool is_open() const {
        return std::visit(
            [](const auto& s) {
                if constexpr (std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
                    return false;
                } else if constexpr (std::is_same_v<std::decay_t<decltype(s)>, TlsStream>) {
                    return s.lowest_layer().is_open();
                } else {
                    return s.is_open();
                }
            },
            stream);
    }
};

class Exchange;

struct HostPool {
    size_t in_flight = 0;
    std::deque<std::shared_ptr<Exchange>> waiting;
    std::vector<std::unique_ptr<Connection>> idle;
};

// Shared by the Client object and every exchange, so a handler that completes after the client was
// destroyed finds `closed` set instead of freed memory.
struct Core {
    Core(net::io_context& i, ClientOptions o) : io(i), options(std::move(o)), tls(ssl::context::tls_client) {}
    net::io_context& io;
    ClientOptions options;
    ssl::context tls;
    std::map<std::string, HostPool> pools;
    std::vector<std::weak_ptr<Exchange>> active;
    bool closed = false;

    void acquire(const std::shared_ptr<Exchange>& ex);
    void release(const std::string& key);
    void park(const std::string& key, std::unique_ptr<Connection> conn);
};

// OpenSSL's macro hides an old-style cast; keep it out of the warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
bool set_sni(SSL* ssl, const std::string& host) { return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1; }
#pragma GCC diagnostic pop

std::string ms_text(Duration d) { return std::to_string(d.count()) + " ms"; }

class Exchange : public std::enable_shared_from_this<Exchange> {
public:
    Exchange(std::shared_ptr<Core> core, Request request, Completion done, Url url)
        : core_(std::move(core)),
          request_(std::move(request)),
          done_(std::move(done)),
          url_(std::move(url)),
          deadline_timer_(core_->io),
          resolver_(core_->io) {}

    void start() {
        deadline_timer_.expires_after(core_->options.max_queue_wait);
        deadline_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) self->on_deadline();
        });
        core_->acquire(shared_from_this());
    }

    const std::string& pool_key() const { return key_; }
    void set_pool_key() { key_ = url_.origin(); }

    // Called by the pool when this exchange may use a connection slot.
    void go(std::unique_ptr<Connection> idle) {
        if (finished_) {
            if (idle) core_->park(key_, std::move(idle));
            core_->release(key_);
            return;
        }
        holding_slot_ = true;
        // The deadline starts when the request is first sent, not when it was queued behind the
        // per-host in-flight limit: a request waiting its turn has not yet cost the server anything.
        // Redirects re-queue within it.
        if (!deadline_armed_) {
            deadline_armed_ = true;
            deadline_timer_.expires_after(request_.timeout);
            deadline_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
                if (!ec) self->on_deadline();
            });
        }
        if (idle) {
            conn_ = std::move(idle);
            conn_->reused = true;
            conn_->idle_timer.cancel();
            write();
        } else {
            open();
        }
    }

    // The client is going away: no completion will run.
    void abandon() {
        finished_ = true;
        abort_io();
    }

private:
    void on_deadline() {
        if (finished_) return;
        if (!holding_slot_) {
            auto& waiting = core_->pools[key_].waiting;
            std::erase(waiting, shared_from_this());
        }
        abort_io();
        if (!deadline_armed_) {
            finish(fail(ErrorKind::transport,
                        step_ + " " + url_.authority() + ": not sent after waiting " +
                            ms_text(core_->options.max_queue_wait) + " for a free slot (in-flight limit " +
                            std::to_string(core_->options.max_in_flight_per_host) + " per host)"));
            return;
        }
        finish(fail(ErrorKind::transport, step_ + " " + url_.authority() + ": timed out after " +
                                              ms_text(request_.timeout)));
    }

    void abort_io() {
        resolver_.cancel();
        if (conn_) conn_->close();
        deadline_timer_.cancel();
    }

    Result<Response> transport_error(const error_code& ec) {
        // A refusal by the kernel (a unix socket's mode) is a permission error, not a transport one.
        const bool refused = ec == net::error::access_denied || ec == net::error::no_permission;
        return fail(refused ? ErrorKind::permission : ErrorKind::transport,
                    step_ + " " + url_.authority() + ": " + ec.message());
    }

    // OpenSSL's "certificate verify failed" says nothing of why; the verification result does.
    Result<Response> tls_error(const error_code& ec) {
        auto& tls = std::get<TlsStream>(conn_->stream);
        const long verify = SSL_get_verify_result(tls.native_handle());
        std::string why;
        if (verify == X509_V_ERR_UNSPECIFIED || (verify == X509_V_OK &&
                                                 ec.message().find("certificate verify failed") != std::string::npos))
            why = "the certificate is not for '" + url_.host + "'";  // the host name check refused it
        else if (verify != X509_V_OK)
            why = X509_verify_cert_error_string(verify);
        if (why.empty()) return transport_error(ec);
        return fail(ErrorKind::transport, step_ + " " + url_.authority() + ": " + ec.message() + " (" + why + ")");
    }

    void open() {
        conn_ = std::make_unique<Connection>(core_->io);
        auto self = shared_from_this();
        if (url_.scheme == Url::Scheme::unix_socket) {
            auto& sock = conn_->stream.emplace<unix_socket::socket>(core_->io);
            step_ = "connect to";
            sock.async_connect(unix_socket::endpoint(url_.socket_path), [self](const error_code& ec) {
                if (self->finished_) return;
                if (ec) return self->finish(self->transport_error(ec));
                self->write();
            });
            return;
        }
        step_ = "resolve";
        resolver_.async_resolve(url_.host, std::to_string(url_.port),
                                [self](const error_code& ec, tcp::resolver::results_type results) {
                                    if (self->finished_) return;
                                    if (ec) return self->finish(self->transport_error(ec));
                                    self->connect(results);
                                });
    }

    void connect(const tcp::resolver::results_type& results) {
        step_ = "connect to";
        auto self = shared_from_this();
        auto on_connect = [self](const error_code& ec, const tcp::endpoint&) {
            if (self->finished_) return;
            if (ec) return self->finish(self->transport_error(ec));
            if (self->url_.scheme == Url::Scheme::https) return self->handshake();
            self->write();
        };
        if (url_.scheme == Url::Scheme::https) {
            auto& tls = conn_->stream.emplace<TlsStream>(core_->io, core_->tls);
            net::async_connect(tls.lowest_layer(), results, on_connect);
        } else {
            auto& sock = conn_->stream.emplace<tcp::socket>(core_->io);
            net::async_connect(sock, results, on_connect);
        }
    }

    void handshake() {
        step_ = "TLS handshake with";
        auto& tls = std::get<TlsStream>(conn_->stream);
        error_code ec;
        net::ip::make_address(url_.host, ec);
        // RFC 6066 §3: a literal IP address is not sent as SNI; it is still verified against the
        // certificate's IP SANs below.
        if (ec && !set_sni(tls.native_handle(), url_.host)) {
            return finish(fail(ErrorKind::transport, step_ + " " + url_.authority() + ": cannot set SNI"));
        }
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_verify_callback(ssl::host_name_verification(url_.host));
        auto self = shared_from_this();
        tls.async_handshake(ssl::stream_base::client, [self](const error_code& hec) {
            if (self->finished_) return;
            if (hec) return self->finish(self->tls_error(hec));
            self->write();
        });
    }

    void write() {
        step_ = "send request to";
        req_ = {};
        req_.version(11);
        auto verb = bhttp::string_to_verb(request_.method);
        if (verb == bhttp::verb::unknown)
            req_.method_string(request_.method);
        else
            req_.method(verb);
        req_.target(url_.target);
        req_.set(bhttp::field::host, host_header(url_));
        req_.set(bhttp::field::user_agent, kUserAgent);
        for (const auto& [k, v] : request_.headers) req_.set(k, v);
        req_.body() = request_.body;
        if (!request_.body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put) req_.prepare_payload();
        req_.keep_alive(core_->options.keep_alive_idle > Duration::zero());
        auto self = shared_from_this();
        std::visit(
            [&](auto& s) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
                    bhttp::async_write(s, req_, [self](const error_code& ec, size_t) {
                        if (self->finished_) return;
                        if (ec) {
                            if (self->conn_->reused) return self->retry_fresh();
                            return self->finish(self->transport_error(ec));
                        }
                        self->read();
                    });
                }
            },
            conn_->stream);
    }

    // A pooled connection the server closed while idle fails on first use; that is not the
    // request's fault, so it is retried once on a new connection.
    void retry_fresh() {
        conn_->close();
        conn_.reset();
        open();
    }

    void read() {
        step_ = "read response from";
        parser_.emplace();
        detail::limit_response_parser(*parser_, request_.method, request_.body_limit);
        // The header is read on its own, so an oversized Content-Length is refused before the body.
        auto self = shared_from_this();
        std::visit(
            [&](auto& s) {
                if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) {
                    bhttp::async_read_header(s, conn_->buffer, *parser_, [self, &s](const error_code& ec, size_t) {
                        if (self->finished_) return;
                        if (ec) return self->on_read(ec);
                        if (detail::declared_length_exceeds(self->parser_->content_length(),
                                                            self->request_.body_limit))
                            return self->on_read(bhttp::error::body_limit);
                        bhttp::async_read(s, self->conn_->buffer, *self->parser_,
                                          [self](const error_code& rec, size_t) {
                                              if (self->finished_) return;
                                              self->on_read(rec);
                                          });
                    });
                }
            },
            conn_->stream);
    }

    void on_read(const error_code& ec) {
        if (ec) {
            if (conn_->reused && !parser_->got_some()) return retry_fresh();
            if (auto e = detail::response_read_error(ec, url_.authority() + url_.target, request_.body_limit))
                return finish(fail(std::move(*e)));
            return finish(transport_error(ec));
        }
        Response response = detail::to_response(parser_->get());
        bool reusable = parser_->keep_alive() && core_->options.keep_alive_idle > Duration::zero();
        auto conn = std::move(conn_);
        if (reusable) {
            conn->reused = false;
            core_->park(key_, std::move(conn));
        } else {
            conn->close();
        }
        holding_slot_ = false;
        core_->release(key_);

        auto next = redirect_target(url_, response, redirects_, core_->options.max_redirects, original_url());
        if (!next) return finish(fail(next.error()));
        if (*next) {
            ++redirects_;
            if (first_url_.empty()) first_url_ = url_.to_string();
            url_ = std::move(**next);
            set_pool_key();
            step_ = "wait for a connection to";
            core_->acquire(shared_from_this());
            return;
        }
        finish(std::move(response));
    }

    std::string original_url() const { return first_url_.empty() ? url_.to_string() : first_url_; }

    void finish(Result<Response> result) {
        if (finished_) return;
        finished_ = true;
        deadline_timer_.cancel();
        resolver_.cancel();
        if (conn_) {
            conn_->close();
            conn_.reset();
        }
        if (holding_slot_) {
            holding_slot_ = false;
            core_->release(key_);
        }
        if (core_->closed) return;
        auto done = std::move(done_);
        done(std::move(result));
    }

    std::shared_ptr<Core> core_;
    Request request_;
    Completion done_;
    Url url_;
    std::string key_;
    std::string first_url_;
    std::string step_ = "wait for a connection to";
    int redirects_ = 0;
    bool finished_ = false;
    bool holding_slot_ = false;
    bool deadline_armed_ = false;
    net::steady_timer deadline_timer_;
    tcp::resolver resolver_;
    std::unique_ptr<Connection> conn_;
    bhttp::request<bhttp::string_body> req_;
    std::optional<detail::ResponseParser> parser_;
};

void Core::acquire(const std::shared_ptr<Exchange>& ex) {
    auto& pool = pools[ex->pool_key()];
    if (pool.in_flight >= options.max_in_flight_per_host) {
        pool.waiting.push_back(ex);
        return;
    }
    ++pool.in_flight;
    std::unique_ptr<Connection> conn;
    while (!pool.idle.empty() && !conn) {
        conn = std::move(pool.idle.back());
        pool.idle.pop_back();
        if (!conn->is_open()) conn.reset();
    }
    ex->go(std::move(conn));
}

void Core::release(const std::string& key) {
    auto& pool = pools[key];
    if (pool.in_flight > 0) --pool.in_flight;
    if (closed || pool.waiting.empty()) return;
    auto next = pool.waiting.front();
    pool.waiting.pop_front();
    // Posted so a chain of queued exchanges does not recurse through completions.
    net::post(io, [this, next, keep = next] {
        (void)keep;
        acquire(next);
    });
}

void Core::park(const std::string& key, std::unique_ptr<Connection> conn) {
    if (closed) return conn->close();
    auto& pool = pools[key];
    Connection* raw = conn.get();
    raw->idle_timer.expires_after(options.keep_alive_idle);
    pool.idle.push_back(std::move(conn));
    // The server may also close an idle connection; the next user notices and retries once.
    raw->idle_timer.async_wait([this, key, raw](const error_code& ec) {
        if (ec) return;
        auto& idle = pools[key].idle;
        for (auto it = idle.begin(); it != idle.end(); ++it) {
            if (it->get() == raw) {
                (*it)->close();
                idle.erase(it);
                return;
            }
        }
    });
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A CR or LF in a header would let a value smuggle extra headers; refuse before anything is sent.
Result<void> check_fields(const Request& request) {
    auto bad = [&](const std::string& what) {
        return fail(ErrorKind::invalid_argument, "request to " + request.url + " has " + what);
    };
    if (request.method.empty() || !std::all_of(request.method.begin(), request.method.end(), is_token_char))
        return bad("an invalid method");
    for (const auto& [name, value] : request.headers) {
        if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
            return bad("an invalid header name '" + name + "'");
        for (char c : value)
            if (c == '\r' || c == '\n' || c == '\0') return bad("a control character in header '" + name + "'");
    }
    return {};
}

class BeastClient final : public Client {
public:
    explicit BeastClient(std::shared_ptr<Core> core) : core_(std::move(core)) {}
    ~BeastClient() override {
        core_->closed = true;
        for (auto& weak : core_->active)
            if (auto ex = weak.lock()) ex->abandon();
        for (auto& [key, pool] : core_->pools) {
            pool.waiting.clear();
            for (auto& c : pool.idle) {
                c->idle_timer.cancel();
                c->close();
            }
        }
    }

    void send(Request request, Completion done) override {
        auto url = parse_url(request.url, UrlSchemes::http_and_unix);
        if (url) {
            if (auto bad = check_fields(request); !bad) url = fail(bad.error());
        }
        if (!url) {
            net::post(core_->io, [core = core_, done = std::move(done), err = url.error()] {
                if (!core->closed) done(fail(err));
            });
            return;
        }
        auto ex = std::make_shared<Exchange>(core_, std::move(request), std::move(done), std::move(*url));
        ex->set_pool_key();
        std::erase_if(core_->active, [](const auto& w) { return w.expired(); });
        core_->active.push_back(ex);
        ex->start();
    }

private:
    std::shared_ptr<Core> core_;
};

}  // namespace

Result<std::unique_ptr<Client>> make_client(runtime::EventLoop& loop, ClientOptions options) {
    if (options.max_in_flight_per_host == 0) options.max_in_flight_per_host = 1;
    auto core = std::make_shared<Core>(runtime::detail::io_context(loop), std::move(options));
    error_code ec;
    core->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                              ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                          ec);
    if (core->options.ca_file) {
        core->tls.load_verify_file(*core->options.ca_file, ec);
        if (ec)
            return fail(ErrorKind::config, "cannot load CA file '" + *core->options.ca_file + "': " +
                                               ec.message());
    } else {
        core->tls.set_default_verify_paths(ec);
        if (ec) return fail(ErrorKind::config, "cannot load the system CA paths: " + ec.message());
    }
    core->tls.set_verify_mode(ssl::verify_peer);
    return std::unique_ptr<Client>(std::make_unique<BeastClient>(std::move(core)));
}

Result<Response> fetch_sync(Request request, ClientOptions options) {
    runtime::EventLoop loop;
    std::optional<Result<Response>> outcome;
    {
        auto client = make_client(loop, std::move(options));
        if (!client) return fail(client.error());
        (*client)->send(std::move(request), [&](Result<Response> r) { outcome = std::move(r); });
        loop.run_until([&] { return outcome.has_value(); });
    }
    if (!outcome) return fail(ErrorKind::internal, "the request finished without a result");
    return std::move(*outcome);
}

}  // namespace credgate::http
