// SPDX-License-Identifier: Apache-2.0
// The control API's requests decoded without a daemon: every route and its command, and the refusal
// (status, message, Allow) of an unknown path, a wrong method, a bad binding name, query or body.
#include "daemon/control_query.hpp"
#include "daemon/control_request.hpp"

#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include <string>

using namespace credgate;
using namespace credgate::daemon;

namespace {

http::ServerRequest request(std::string method, std::string target, std::string body = "") {
    http::ServerRequest r;
    r.method = std::move(method);
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = std::move(body);
    return r;
}

template <typename T>
T decoded(const std::string& method, const std::string& target, const std::string& body = "") {
    auto command = decode_control_request(request(method, target, body));
    INFO(method, " ", target, ": ", command ? "" : command.error().message);
    REQUIRE(command.has_value());
    REQUIRE(std::holds_alternative<T>(*command));
    return std::get<T>(*command);
}

ControlRefusal refused(const std::string& method, const std::string& target, const std::string& body = "") {
    auto command = decode_control_request(request(method, target, body));
    INFO(method, " ", target);
    REQUIRE_FALSE(command.has_value());
    return command.error();
}

}  // namespace

TEST_CASE("each control route decodes to its command") {
    decoded<control::GetStatus>("GET", "/v1/status");
    CHECK(decoded<control::GetBinding>("GET", "/v1/bindings/openai-key").name == "openai-key");
    CHECK(decoded<control::RotateBinding>("POST", "/v1/bindings/openai-key/rotate").name == "openai-key");
    // "rotate" is a binding name as good as any other when it is the whole name.
    CHECK(decoded<control::GetBinding>("GET", "/v1/bindings/rotate").name == "rotate");
    decoded<control::GetIssuer>("GET", "/v1/issuer");
    decoded<control::Reload>("POST", "/v1/reload");
    decoded<control::Handover>("POST", "/v1/handover");
    decoded<control::GetIdentities>("GET", "/v1/identities");

    auto explain = decoded<control::Explain>("GET", "/v1/explain?pid=42");
    CHECK(explain.pid == 42);
    CHECK_FALSE(explain.binding);
    explain = decoded<control::Explain>("GET", "/v1/explain?binding=a%2Db&pid=7");
    CHECK(explain.pid == 7);
    CHECK(explain.binding == "a-b");

    auto audit = decoded<control::ReadAudit>("GET", "/v1/audit");
    CHECK(audit.since == 0);
    CHECK_FALSE(audit.binding);
    CHECK_FALSE(audit.verdict);
    CHECK_FALSE(audit.wait);
    // As credgatectl audit --follow asks.
    audit = decoded<control::ReadAudit>("GET",
                                        "/v1/audit?since=18446744073709551615&binding=b.1&verdict=audit-deny&wait=1");
    CHECK(audit.since == UINT64_MAX);
    CHECK(audit.binding == "b.1");
    CHECK(audit.verdict == "audit-deny");
    CHECK(audit.wait);
    CHECK_FALSE(decoded<control::ReadAudit>("GET", "/v1/audit?wait=0").wait);
}

TEST_CASE("an unknown path is a 404 that names the method and the path") {
    for (const char* target : {"/", "/v1", "/v1/", "/v1/status/", "/v1/statuses", "/v2/status", "/v1/bindings",
                               "v1/status", "http://localhost/v1/status", "/V1/STATUS"}) {
        auto r = refused("GET", target);
        CHECK(r.status == 404);
        CHECK(r.message == std::string("no such endpoint: GET ") + target);
        CHECK(r.allow.empty());
    }
    // Request bytes are quoted printable, so the answer stays valid JSON whatever was sent.
    CHECK(refused("G\x01T", "/v1/\xff\x7f").message == "no such endpoint: G\\x01T /v1/\\xff\\x7f");
}

TEST_CASE("a wrong method is a 405 with the usage and an Allow header") {
    struct Case {
        const char* method;
        const char* target;
        const char* usage;
        const char* allow;
    };
    for (auto c : {Case{"POST", "/v1/status", "use GET /v1/status", "GET"},
                   Case{"HEAD", "/v1/status", "use GET /v1/status", "GET"},
                   Case{"get", "/v1/status", "use GET /v1/status", "GET"},
                   Case{"GET", "/v1/bindings/a/rotate", "use POST /v1/bindings/<name>/rotate", "POST"},
                   Case{"DELETE", "/v1/bindings/a", "use GET /v1/bindings/<name>", "GET"},
                   Case{"PUT", "/v1/issuer", "use GET /v1/issuer", "GET"},
                   Case{"GET", "/v1/reload", "use POST /v1/reload", "POST"},
                   Case{"GET", "/v1/handover", "use POST /v1/handover", "POST"},
                   Case{"POST", "/v1/identities", "use GET /v1/identities", "GET"},
                   Case{"POST", "/v1/explain?pid=1", "use GET /v1/explain?pid=<pid>[&binding=<name>]", "GET"},
                   Case{"POST", "/v1/audit", "use GET /v1/audit", "GET"}}) {
        auto r = refused(c.method, c.target);
        CHECK(r.status == 405);
        CHECK(r.message == c.usage);
        CHECK(r.allow == c.allow);
        auto response = refusal_response(r);
        CHECK(response.status == 405);
        bool has_allow = false;
        for (const auto& [name, value] : response.headers)
            has_allow = has_allow || (name == "Allow" && value == c.allow);
        CHECK(has_allow);
    }
}

TEST_CASE("a binding name that no policy can give is a 400 that says why") {
    auto r = refused("GET", "/v1/bindings/");
    CHECK(r.status == 400);
    CHECK(r.message == "binding name must not be empty");
    r = refused("GET", "/v1/bindings/Upper");
    CHECK(r.status == 400);
    CHECK(r.message == "binding name 'Upper' contains 'U'; use lowercase letters, digits, '-' and '.'");
    r = refused("POST", "/v1/bindings/a/b/rotate");
    CHECK(r.status == 400);
    CHECK(r.message == "binding name 'a/b' contains '/'; use lowercase letters, digits, '-' and '.'");
    // Too short to hold a name between the prefix and "/rotate": a GET of the binding "/rotate".
    CHECK(refused("GET", "/v1/bindings//rotate").status == 400);
    r = refused("GET", "/v1/bindings/-a");
    CHECK(r.message == "binding name '-a' must start and end with a letter or digit");
    r = refused("GET", "/v1/bindings/" + std::string(254, 'a'));
    CHECK(r.message == "binding name is longer than 253 bytes");
    CHECK(decoded<control::GetBinding>("GET", "/v1/bindings/" + std::string(253, 'a')).name.size() == 253);
    // Not percent-decoded: credgatectl sends names as they are, and a name never needs escaping.
    CHECK(refused("GET", "/v1/bindings/a%2Db").status == 400);
    r = refused("GET", "/v1/bindings/a\xff");
    CHECK(r.message == "binding name 'a\\xff' contains byte 0xff; use lowercase letters, digits, '-' and '.'");
    // In queries too.
    CHECK(refused("GET", "/v1/explain?pid=1&binding=A").status == 400);
    CHECK(refused("GET", "/v1/audit?binding=").message == "binding name must not be empty");
}

TEST_CASE("a bad query is a 400 naming the parameter") {
    auto r = refused("GET", "/v1/status?verbose=1");
    CHECK(r.status == 400);
    CHECK(r.message == "GET /v1/status takes no query parameters; got 'verbose'");
    r = refused("GET", "/v1/audit?verdit=deny");
    CHECK(r.status == 400);
    CHECK(r.message == "GET /v1/audit takes the query parameters since, binding, verdict and wait; got 'verdit'");
    r = refused("GET", "/v1/explain?pid=1&pid=2");
    CHECK(r.message == "query parameter 'pid' is given twice");
    r = refused("GET", "/v1/audit?binding=%zz");
    CHECK(r.message == "query parameter 'binding' is not valid percent-encoding");
    CHECK(refused("GET", "/v1/audit?binding=a%4").status == 400);

    for (const char* target : {"/v1/explain", "/v1/explain?pid=", "/v1/explain?pid=0", "/v1/explain?pid=-3",
                               "/v1/explain?pid=12x", "/v1/explain?pid=99999999999", "/v1/explain?binding=a"}) {
        r = refused("GET", target);
        CHECK(r.status == 400);
        CHECK(r.message == "give the process as pid=<number>");
    }
    r = refused("GET", "/v1/audit?verdict=maybe");
    CHECK(r.message == "verdict 'maybe' is not one of allow, deny, audit-deny");
    r = refused("GET", "/v1/audit?since=-1");
    CHECK(r.message == "since '-1' is not an event number");
    CHECK(refused("GET", "/v1/audit?since=18446744073709551616").status == 400);
    r = refused("GET", "/v1/audit?wait=yes");
    CHECK(r.message == "wait 'yes' is not 0 or 1");
    // Empty pairs are nothing; a bare '?' neither.
    CHECK(decoded<control::ReadAudit>("GET", "/v1/audit?&since=3&&").since == 3);
    decoded<control::GetStatus>("GET", "/v1/status?");
}

TEST_CASE("a body is empty or {}, and one over kControlMaxBodyBytes is a 413") {
    decoded<control::Reload>("POST", "/v1/reload", "{}");
    decoded<control::Handover>("POST", "/v1/handover", " \r\n{ \t}\n");
    decoded<control::RotateBinding>("POST", "/v1/bindings/a/rotate", "\n");
    decoded<control::GetStatus>("GET", "/v1/status", "{}");

    for (const char* body : {"{\"force\": true}", "[]", "null", "{", "}", "{}{}", "{} x", "x"}) {
        auto r = refused("POST", "/v1/reload", body);
        CHECK(r.status == 400);
        CHECK(r.message == "POST /v1/reload takes no parameters in its body: send none or {}");
    }
    auto r = refused("POST", "/v1/handover", std::string(kControlMaxBodyBytes + 1, ' '));
    CHECK(r.status == 413);
    CHECK(r.message == "the request's body of 4097 bytes is over the control API's limit of 4096 bytes");
    decoded<control::Handover>("POST", "/v1/handover", "{" + std::string(kControlMaxBodyBytes - 2, ' ') + "}");
    // The method is checked first, then the path's name, the query, and the body last.
    CHECK(refused("GET", "/v1/reload", "x").status == 405);
    CHECK(refused("POST", "/v1/bindings/A/rotate?x=1", "x").message.starts_with("binding name 'A'"));
    CHECK(refused("POST", "/v1/reload?x=1", "x").message == "POST /v1/reload takes no query parameters; got 'x'");
}

TEST_CASE("a refusal answers {\"errors\": [message]} as valid JSON") {
    auto response = refusal_response(refused("GET", "/v1/\"\\\xc3\x28"));
    CHECK(response.status == 404);
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(response.body.c_str());
    REQUIRE_FALSE(d.HasParseError());
    CHECK(std::string(d["errors"][0].GetString()) == "no such endpoint: GET /v1/\"\\\\xc3(");
    for (const auto& [name, value] : response.headers) CHECK(name != "Allow");
}

TEST_CASE("a query splits into its pairs in order, each value percent-decoded") {
    auto params = query_params("a=1&&b&c=%zz&a=x+y&d=a%2Db%2f&e=%4&f=%");
    REQUIRE(params.size() == 7);
    CHECK(params[0].name == "a");
    CHECK(params[0].value == "1");
    CHECK(params[1].name == "b");
    CHECK(params[1].value == "");
    CHECK(params[2].name == "c");
    CHECK_FALSE(params[2].value);
    CHECK(params[3].name == "a");
    CHECK(params[3].value == "x y");
    CHECK(params[4].value == "a-b/");
    CHECK_FALSE(params[5].value);
    CHECK_FALSE(params[6].value);
    CHECK(query_params("").empty());
    CHECK(query_params("&&").empty());
}
