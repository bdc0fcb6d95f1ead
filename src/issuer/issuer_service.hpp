// SPDX-License-Identifier: Apache-2.0
// Serves an Issuer's discovery document and JWKS over HTTP(S) on the configured listen address.
#pragma once

#include "common/result.hpp"
#include "http/server.hpp"
#include "issuer/issuer.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace credgate::runtime {
class EventLoop;
}

namespace credgate::issuer {

class IssuerService {
public:
    virtual ~IssuerService() = default;
    // Listens on settings.listen (HTTPS when tls_cert and tls_key are both set). `issuer` must
    // outlive the service.
    static Result<std::unique_ptr<IssuerService>> create(runtime::EventLoop& loop, const Issuer& issuer,
                                                         const policy::IssuerSettings& settings);
    virtual uint16_t port() const = 0;
};

// The server options the service listens with: verifiers send bodiless GETs, so no body is taken.
http::ServerOptions server_options(const policy::IssuerSettings& settings);

// The service's answer to one request: the discovery document or the JWKS for GET and HEAD of
// their paths, 405 for another method there, 404 elsewhere.
http::ServerResponse serve_request(const Issuer& issuer, const http::ServerRequest& request);

}  // namespace credgate::issuer
