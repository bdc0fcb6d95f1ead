// SPDX-License-Identifier: Apache-2.0
// The three output formats render what the binding asks for, and refuse what they cannot express.
#include "delivery/output.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::delivery;

namespace {
const std::map<std::string, std::string> kFields{{"api_key", "sk-1"}, {"api_key_id", "key_1"}};
const char* kJson = R"({"api_key":"sk-1","api_key_id":"key_1","n":3})";
}  // namespace

TEST_CASE("json writes the data object with a trailing newline") {
    policy::BindingOutput o;
    auto r = render(o, kJson, kFields);
    REQUIRE(r);
    CHECK(*r == std::string(kJson) + "\n");
}

TEST_CASE("raw writes one string field exactly") {
    policy::BindingOutput o;
    o.format = policy::OutputFormat::raw;
    o.field = "api_key";
    auto r = render(o, kJson, kFields);
    REQUIRE(r);
    CHECK(*r == "sk-1");
    o.field = "n";  // not a string field
    auto missing = render(o, kJson, kFields);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("no string field 'n'") != std::string::npos);
    o.field.reset();
    CHECK_FALSE(render(o, kJson, kFields));
}

TEST_CASE("env writes KEY=value lines and refuses what a consumer would misread") {
    policy::BindingOutput o;
    o.format = policy::OutputFormat::env;
    auto r = render(o, kJson, kFields);
    REQUIRE(r);
    CHECK(*r == "api_key=sk-1\napi_key_id=key_1\n");
    CHECK_FALSE(render(o, kJson, {{"bad-name", "x"}}));
    CHECK_FALSE(render(o, kJson, {{"K", "two\nlines"}}));
}
