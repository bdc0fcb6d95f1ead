// SPDX-License-Identifier: Apache-2.0
// The issuer's HTTP endpoints on loopback, and interoperability: a token verified by PyJWT with
// the JWKS it fetched from the running service.
#include "http/client_factory.hpp"
#include "issuer/issuer.hpp"
#include "issuer/issuer_service.hpp"
#include "runtime/event_loop.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace credgate;
using namespace credgate::issuer;

namespace {

Result<http::Response> get(runtime::EventLoop& loop, http::Client& client, std::string url, std::string method = "GET") {
    std::optional<Result<http::Response>> out;
    http::Request req;
    req.url = std::move(url);
    req.method = std::move(method);
    client.send(req, [&](Result<http::Response> r) { out = std::move(r); });
    loop.run_until([&] { return out.has_value(); });
    REQUIRE(out.has_value());
    return std::move(*out);
}

policy::IssuerSettings settings(const std::string& url) {
    policy::IssuerSettings s;
    s.url = url;
    s.listen = "127.0.0.1:0";
    return s;
}

}  // namespace

TEST_CASE("the service serves discovery and JWKS under the issuer URL's path") {
    runtime::EventLoop loop;
    ManualClock clock;
    IssuerOptions opts;
    opts.settings = settings("https://issuer.example/credgate");
    auto issuer = Issuer::create(opts, clock);
    REQUIRE(issuer);
    auto service = IssuerService::create(loop, **issuer, opts.settings);
    REQUIRE_MESSAGE(service, (service ? "" : service.error().message));
    auto client = http::make_client(loop);
    REQUIRE(client);
    std::string base = "http://127.0.0.1:" + std::to_string((*service)->port());

    auto disco = get(loop, **client, base + "/credgate/.well-known/openid-configuration");
    REQUIRE(disco);
    CHECK(disco->status == 200);
    CHECK(disco->header("Content-Type") == "application/json");
    CHECK(disco->body == (*issuer)->discovery_json());

    auto jwks = get(loop, **client, base + "/credgate/keys");
    REQUIRE(jwks);
    CHECK(jwks->status == 200);
    rapidjson::Document doc;
    doc.Parse(jwks->body.c_str());
    REQUIRE(!doc.HasParseError());
    CHECK(std::string(doc["keys"][0]["kid"].GetString()) == (*issuer)->current_kid());

    auto missing = get(loop, **client, base + "/.well-known/openid-configuration");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    auto post = get(loop, **client, base + "/credgate/keys", "POST");
    REQUIRE(post);
    CHECK(post->status == 405);
    CHECK(post->header("Allow") == "GET, HEAD");
    auto head = get(loop, **client, base + "/credgate/keys", "HEAD");
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->body.empty());
}

TEST_CASE("a busy listen address is an error naming it") {
    runtime::EventLoop loop;
    ManualClock clock;
    IssuerOptions opts;
    opts.settings = settings("http://127.0.0.1");
    auto issuer = Issuer::create(opts, clock);
    REQUIRE(issuer);
    auto first = IssuerService::create(loop, **issuer, opts.settings);
    REQUIRE(first);
    auto busy = opts.settings;
    busy.listen = "127.0.0.1:" + std::to_string((*first)->port());
    auto second = IssuerService::create(loop, **issuer, busy);
    REQUIRE(!second);
    CHECK(second.error().message.find(busy.listen) != std::string::npos);
}

TEST_CASE("PyJWT verifies ES256, RS256 and EdDSA tokens with the JWKS fetched from the service") {
    if (::access("/usr/bin/python3", X_OK) != 0 ||
        std::system("/usr/bin/python3 -c 'import jwt, cryptography' >/dev/null 2>&1") != 0) {
        const char* require = std::getenv("CREDGATE_REQUIRE_ALL_TESTS");
        if (require && std::string(require) == "1") FAIL("python3-jwt is not installed");
        MESSAGE("skipped: /usr/bin/python3 with python3-jwt and python3-cryptography is not installed");
        return;
    }
    for (auto alg : {policy::SigningAlgorithm::es256, policy::SigningAlgorithm::rs256, policy::SigningAlgorithm::eddsa}) {
        CAPTURE(algorithm_name(alg));
        runtime::EventLoop loop;
        auto& clock = loop.clock();
        IssuerOptions opts;
        opts.settings = settings("http://127.0.0.1/credgate");
        opts.settings.algorithm = alg;
        opts.node = "node1";
        auto issuer = Issuer::create(opts, clock);
        REQUIRE(issuer);
        auto service = IssuerService::create(loop, **issuer, opts.settings);
        REQUIRE(service);
        MintRequest req;
        req.subject = "spiffe://example.org/ai-agent";
        req.audience = {"vault"};
        req.extra = {{"binding", "openai-agent"}};
        auto token = (*issuer)->mint(req);
        REQUIRE(token);

        std::string jwks_url =
            "http://127.0.0.1:" + std::to_string((*service)->port()) + (*issuer)->jwks_path();
        std::string script =
            "import jwt, sys\n"
            "token, url, alg = sys.argv[1], sys.argv[2], sys.argv[3]\n"
            "key = jwt.PyJWKClient(url).get_signing_key_from_jwt(token)\n"
            "claims = jwt.decode(token, key.key, algorithms=[alg], audience='vault', issuer='" +
            opts.settings.url +
            "')\n"
            "assert claims['sub'] == 'spiffe://example.org/ai-agent', claims\n"
            "assert claims['node'] == 'node1' and claims['binding'] == 'openai-agent', claims\n"
            "assert claims['exp'] - claims['iat'] == 300, claims\n"
            "print('verified', claims['jti'])\n";

        // PyJWT fetches the JWKS over HTTP while this loop serves it on a second thread.
        int status = -1;
        std::thread verifier([&] {
            pid_t pid = ::fork();
            if (pid == 0) {
                ::execl("/usr/bin/python3", "python3", "-c", script.c_str(), token->jwt.c_str(), jwks_url.c_str(),
                        (*issuer)->algorithm().c_str(), static_cast<char*>(nullptr));
                ::_exit(127);
            }
            ::waitpid(pid, &status, 0);
            loop.post([&loop] { loop.stop(); });
        });
        loop.run();
        verifier.join();
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
}
