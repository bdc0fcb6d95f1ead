// SPDX-License-Identifier: Apache-2.0
// IssuerService: GET/HEAD of the discovery document and the JWKS on an http::Server.
#include "issuer/issuer_service.hpp"

#include "common/log.hpp"
#include "http/server.hpp"

namespace credgate::issuer {
namespace {

class IssuerServiceImpl final : public IssuerService {
public:
    explicit IssuerServiceImpl(std::unique_ptr<http::Server> server) : server_(std::move(server)) {}
    uint16_t port() const override { return server_->port(); }

private:
    std::unique_ptr<http::Server> server_;
};

http::ServerResponse json(std::string body) {
    auto r = http::text_response(200, std::move(body), "application/json");
    // Verifiers refetch on an unknown kid; a short cache keeps a rotation visible quickly.
    r.headers.emplace_back("Cache-Control", "max-age=60");
    return r;
}

}  // namespace

http::ServerOptions server_options(const policy::IssuerSettings& settings) {
    http::ServerOptions options;
    options.listen = settings.listen;
    options.tls_cert = settings.tls_cert;
    options.tls_key = settings.tls_key;
    options.max_body_bytes = 0;
    return options;
}

http::ServerResponse serve_request(const Issuer& issuer, const http::ServerRequest& req) {
    if (req.path != issuer.discovery_path() && req.path != issuer.jwks_path())
        return http::text_response(404, "not found\n");
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = http::text_response(405, "method not allowed\n");
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    return json(req.path == issuer.jwks_path() ? issuer.jwks_json() : issuer.discovery_json());
}

Result<std::unique_ptr<IssuerService>> IssuerService::create(runtime::EventLoop& loop, const Issuer& issuer,
                                                             const policy::IssuerSettings& settings) {
    auto options = server_options(settings);
    auto handler = [&issuer](const http::ServerRequest& req, http::Responder respond) {
        respond(serve_request(issuer, req));
    };
    auto server = http::Server::create(loop, std::move(options), std::move(handler));
    if (!server) return fail(server.error());
    log::info("issuer", "Serving {} and {} on {}{}", issuer.discovery_path(), issuer.jwks_path(),
              (*server)->local_address(), settings.tls_cert ? " (TLS)" : "");
    return std::unique_ptr<IssuerService>(std::make_unique<IssuerServiceImpl>(std::move(*server)));
}

}  // namespace credgate::issuer
