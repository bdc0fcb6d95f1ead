// SPDX-License-Identifier: Apache-2.0
// Log lines as journal entries: the fields `journalctl CREDGATE_BINDING=… SPIFFE_ID=…` matches on,
// names journald would refuse left out, and the JOURNAL_STREAM test for whether stderr is the journal.
#include "common/journal.hpp"
#include "common/log.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace credgate;
using namespace credgate::log;

namespace {
bool has(const std::vector<std::string>& entry, const std::string& item) {
    return std::find(entry.begin(), entry.end(), item) != entry.end();
}
}  // namespace

TEST_CASE("a line about a binding becomes an entry with its message, priority, binding and SPIFFE ID") {
    const auto entry = journal_entry(Level::warning, "refresh", "Binding 'openai': Failed to refresh (attempt 1)",
                                     binding_fields("openai", "spiffe://example.org/ai-agent"));
    CHECK(entry.size() == 6);
    CHECK(entry[0] == "MESSAGE=refresh: Binding 'openai': Failed to refresh (attempt 1)");
    CHECK(has(entry, "PRIORITY=4"));
    CHECK(has(entry, "CREDGATE_COMPONENT=refresh"));
    CHECK(has(entry, "CREDGATE_BINDING=openai"));
    CHECK(has(entry, "SPIFFE_ID=spiffe://example.org/ai-agent"));
    CHECK(std::count_if(entry.begin(), entry.end(), [](const std::string& e) {
              return e.starts_with("SYSLOG_IDENTIFIER=") && e.size() > 18;
          }) == 1);
}

TEST_CASE("a binding without a known SPIFFE ID carries only its name") {
    const auto fields = binding_fields("openai", "");
    REQUIRE(fields.size() == 1);
    CHECK(fields[0].name == "CREDGATE_BINDING");
    CHECK(fields[0].value == "openai");
}

TEST_CASE("an audit decision carries its verdict, and a value may hold any text") {
    Fields fields = binding_fields("openai", "spiffe://example.org/ai-agent");
    fields.push_back({std::string(kVerdictField), "deny"});
    fields.push_back({"CREDGATE_NOTE", "two\nlines"});
    const auto entry = journal_entry(Level::notice, "audit", R"({"event":"credgate.audit","verdict":"deny"})", fields);
    CHECK(has(entry, "VERDICT=deny"));
    CHECK(has(entry, "PRIORITY=5"));
    CHECK(has(entry, "CREDGATE_NOTE=two\nlines"));
}

TEST_CASE("field names journald would refuse or treat as trusted are left out") {
    CHECK(valid_field_name("CREDGATE_BINDING"));
    CHECK(valid_field_name("SPIFFE_ID"));
    CHECK(valid_field_name("A1_2"));
    CHECK(valid_field_name(std::string(64, 'A')));
    CHECK_FALSE(valid_field_name(std::string(65, 'A')));
    CHECK_FALSE(valid_field_name(""));
    CHECK_FALSE(valid_field_name("_SYSTEMD_UNIT"));  // trusted fields are journald's own
    CHECK_FALSE(valid_field_name("1BINDING"));
    CHECK_FALSE(valid_field_name("spiffe_id"));
    CHECK_FALSE(valid_field_name("SPIFFE-ID"));
    const auto entry = journal_entry(Level::info, "daemon", "m", {{"_SYSTEMD_UNIT", "forged.service"},
                                                                   {"lower", "x"},
                                                                   {"CREDGATE_BINDING", "b"}});
    CHECK(entry.size() == 5);
    CHECK(has(entry, "CREDGATE_BINDING=b"));
    CHECK_FALSE(has(entry, "_SYSTEMD_UNIT=forged.service"));
}

TEST_CASE("JOURNAL_STREAM names stderr only with exactly its device and inode") {
    CHECK(journal_stream_matches("8:1234", 8, 1234));
    CHECK(journal_stream_matches("64768:98765432", 64768, 98765432));
    CHECK_FALSE(journal_stream_matches("8:1235", 8, 1234));
    CHECK_FALSE(journal_stream_matches("9:1234", 8, 1234));
    CHECK_FALSE(journal_stream_matches("8:", 8, 0));
    CHECK_FALSE(journal_stream_matches(":1234", 0, 1234));
    CHECK_FALSE(journal_stream_matches("8:1234x", 8, 1234));
    CHECK_FALSE(journal_stream_matches("8-1234", 8, 1234));
    CHECK_FALSE(journal_stream_matches("", 0, 0));
}

TEST_CASE("a captured line keeps its fields") {
    Capture capture;
    log::warning(binding_fields("openai", "spiffe://example.org/ai-agent"), "refresh", "Binding '{}': {}", "openai",
                 "retrying");
    log::info("daemon", "no binding here");
    REQUIRE(capture.lines().size() == 2);
    CHECK(capture.lines()[0] == "<4>refresh: Binding 'openai': retrying");
    CHECK(capture.field(0, "SPIFFE_ID") == "spiffe://example.org/ai-agent");
    CHECK(capture.field(0, "CREDGATE_BINDING") == "openai");
    CHECK(capture.fields(1).empty());
}
