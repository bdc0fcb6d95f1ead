// SPDX-License-Identifier: Apache-2.0
// SPIFFE ID parsing and validation by the standard's rules, and the UUIDv5 of an ID.
#include "spiffe/spiffe_id.hpp"

#include <doctest/doctest.h>

using namespace credgate::spiffe;

TEST_CASE("parses a SPIFFE ID into trust domain and path") {
    auto id = parse_spiffe_id("spiffe://example.org/ns/prod/ai-agent");
    REQUIRE(id.has_value());
    CHECK(id->trust_domain == "example.org");
    CHECK(id->path == "/ns/prod/ai-agent");
    CHECK(id->str() == "spiffe://example.org/ns/prod/ai-agent");
    auto td_only = parse_spiffe_id("spiffe://example.org");
    REQUIRE(td_only.has_value());
    CHECK(td_only->path.empty());
}

TEST_CASE("rejects IDs the SPIFFE ID standard rejects") {
    for (const char* bad : {"", "http://example.org/a", "SPIFFE://example.org/a", "spiffe://", "spiffe:///a",
                            "spiffe://Example.org/a", "spiffe://example.org:8080/a", "spiffe://user@example.org/a",
                            "spiffe://example.org/", "spiffe://example.org//a", "spiffe://example.org/a/",
                            "spiffe://example.org/./a", "spiffe://example.org/a/..", "spiffe://example.org/a%20b",
                            "spiffe://example.org/a?x=1", "spiffe://example.org/a#f", "spiffe://example.org/a b"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_spiffe_id(bad).has_value());
    }
}

TEST_CASE("trust domains are lowercase letters, digits, dots, dashes and underscores") {
    CHECK_FALSE(trust_domain_error("example.org"));
    CHECK_FALSE(trust_domain_error("prod_1-a.example"));
    CHECK(trust_domain_error(""));
    CHECK(trust_domain_error("Example.org"));
    CHECK(trust_domain_error("example.org:443"));
    CHECK(*trust_domain_error("Example.org") == "trust domain must be lowercase");
}

TEST_CASE("path segments allow letters of both cases, digits, dots, dashes and underscores") {
    CHECK_FALSE(path_error("/Team_A/agent-1.0"));
    CHECK_FALSE(path_error(""));
    CHECK(path_error("no-leading-slash"));
    CHECK(path_error("/a/"));
    CHECK(path_error("/a//b"));
    CHECK(path_error("/."));
    CHECK(path_error("/a/.."));
    CHECK(path_error("/a~b"));
    CHECK_FALSE(path_error("/...")); // three dots is an ordinary segment
}

TEST_CASE("workload IDs are the path under the trust domain without the leading slash") {
    CHECK_FALSE(workload_id_error("ai-agent"));
    CHECK_FALSE(workload_id_error("team/ai-agent"));
    CHECK(workload_id_error(""));
    CHECK(workload_id_error("/ai-agent"));
    CHECK(workload_id_error("spiffe://example.org/ai-agent"));
    CHECK(workload_id_error("team/"));
    auto id = spiffe_id_for_workload("example.org", "team/ai-agent");
    REQUIRE(id.has_value());
    CHECK(id->str() == "spiffe://example.org/team/ai-agent");
}

TEST_CASE("a SPIFFE ID may be 2048 bytes and not one more") {
    const std::string prefix = "spiffe://example.org/";
    std::string path(kMaxSpiffeIdBytes - prefix.size(), 'a');
    CHECK(parse_spiffe_id(prefix + path).has_value());
    CHECK(spiffe_id_for_workload("example.org", path).has_value());
    CHECK_FALSE(parse_spiffe_id(prefix + path + "a").has_value());
    auto too_long = spiffe_id_for_workload("example.org", path + "a");
    REQUIRE_FALSE(too_long.has_value());
    CHECK(too_long.error().message.find("2048") != std::string::npos);
}

TEST_CASE("UUIDv5 matches RFC 4122 name-based UUIDs") {
    // Reference values from Python's uuid.uuid5().
    const std::array<std::uint8_t, 16> dns = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                              0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    CHECK(uuid_v5(dns, "python.org").value() == "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    auto id = parse_spiffe_id("spiffe://example.org/ai-agent").value();
    CHECK(workload_uuid(id).value() == "a6d0c6a7-252f-527d-9406-c6929d03fabc");
    auto other = parse_spiffe_id("spiffe://prod.acme.internal/team-a/ai-agent").value();
    CHECK(workload_uuid(other).value() == "14d4ad38-e013-5cab-be68-1ecc14c610ff");
}
