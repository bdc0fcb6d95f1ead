// SPDX-License-Identifier: Apache-2.0
// The engine over VaultOps and VaultClient: the request sequence of a fetch, a rotation and a
// shutdown, answered with recorded Vault bodies.
#include "refresh/engine.hpp"
#include "refresh/vault_ops.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace credgate;
using namespace credgate::refresh;
using namespace std::chrono_literals;

namespace {

std::string fixture(const std::string& name) {
    const char* root = std::getenv("CREDGATE_SOURCE_ROOT");
    std::ifstream in(std::string(root ? root : ".") + "/tests/fixtures/vault/" + name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Answers by path with recorded bodies, as Vault would.
class RecordedVault final : public http::Client {
public:
    void send(http::Request request, http::Completion done) override {
        const auto path = request.url.substr(request.url.find("/v1/") + 3);
        calls.push_back(request.method + " " + path);
        http::Response r;
        r.status = 200;
        if (path == "/auth/jwt/login") {
            r.body = fixture(login_fixture);
            // Every login gets its own token, as from Vault.
            if (auto at = r.body.find("\"hvs.token\""); at != std::string::npos)
                r.body.replace(at, 11, "\"hvs.token" + std::to_string(++logins) + "\"");
        }
        else if (path == "/openai/creds/my-role")
            r.body = fixture("secret-openai-creds.json");
        else if (path == "/auth/token/revoke-self")
            r.status = 204;
        else
            r.status = 404, r.body = fixture("error-empty.json");
        if (r.status == 200 && login_status != 200 && path == "/auth/jwt/login") r.status = login_status;
        done(r);
    }
    std::vector<std::string> calls;
    std::string login_fixture = "login-success-kubernetes.json";
    int login_status = 200;
    int logins = 0;
};

class Ops final : public VaultOps {
public:
    using VaultOps::VaultOps;
    Result<std::string> mint_jwt() override { return std::string("eyJ.test.sig"); }
    Result<void> publish(const vault::SecretResult& s) override {
        published = s.data_json;
        return {};
    }
    void unpublish() override { published.reset(); }
    std::optional<std::string> published;
};

policy::VaultSource source() {
    policy::VaultSource s;
    s.address = "http://127.0.0.1:8200";
    s.role = "openai-apikeys";
    s.path = "openai/creds/my-role";
    return s;
}

}  // namespace

TEST_CASE("fetch, rotation and shutdown issue Vault's requests in order") {
    ManualClock clock;
    RecordedVault vault;
    auto client = vault::VaultClient::create(vault, source());
    REQUIRE(client);
    Ops ops(std::move(*client));
    EngineOptions o;
    o.random = [] { return 0.5; };
    Engine engine("vault-openai-apikeys-binding", clock, ops, o);
    engine.start();
    CHECK(vault.calls == std::vector<std::string>{"POST /auth/jwt/login", "GET /openai/creds/my-role"});
    REQUIRE(ops.published);
    CHECK(ops.published->find("\"api_key\":\"sk-svcacct-test0123456789\"") != std::string::npos);
    auto st = engine.status();
    CHECK(st.state == State::ok);
    CHECK(st.lease_id == "openai/creds/agent/k3J9x0abQm7PzR2sT4uV6wXy");

    clock.advance(*st.next_attempt - clock.now() + o.tuning.revoke_grace);
    REQUIRE(vault.calls.size() == 5);
    CHECK(vault.calls[4] == "POST /auth/token/revoke-self");

    bool done = false;
    engine.stop(true, [&done] { done = true; });
    CHECK(done);
    CHECK(vault.calls.back() == "POST /auth/token/revoke-self");
    CHECK(vault.calls.size() == 6);
    CHECK_FALSE(ops.published);
}

TEST_CASE("a role without role_type=jwt surfaces as Failed with the plain-words explanation") {
    ManualClock clock;
    RecordedVault vault;
    vault.login_fixture = "error-oidc-role-type.json";
    vault.login_status = 400;
    auto client = vault::VaultClient::create(vault, source());
    REQUIRE(client);
    Ops ops(std::move(*client));
    Engine engine("b", clock, ops, EngineOptions{});
    engine.start();
    auto st = engine.status();
    CHECK(st.state == State::failed);
    REQUIRE(st.last_error);
    CHECK(st.last_error->error_class == vault::ErrorClass::auth_config);
    CHECK(st.last_error->vault_message == "role with oidc role_type is not allowed");
    CHECK(st.message.find("the Vault role was created without role_type=jwt") != std::string::npos);
    CHECK(st.message.find("waiting for the policy or Vault to change") != std::string::npos);
}
