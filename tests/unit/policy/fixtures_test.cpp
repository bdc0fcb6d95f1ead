// SPDX-License-Identifier: Apache-2.0
// Every invalid fixture produces the error its first line names, every warning fixture loads with
// its warning, and every shipped example and the packaged settings file load.
#include "policy/loader.hpp"
#include "support/source_root.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace credgate::policy;
namespace fs = std::filesystem;
using credgate::test::source_root;

namespace {

std::vector<fs::path> yaml_files(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".yaml") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

struct Expectation {
    int line = 0;
    int column = 0;
    std::string substring;
};

// First line: "# expect: LINE:COL substring".
Expectation read_expectation(const fs::path& file) {
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    const std::string tag = "# expect: ";
    REQUIRE_MESSAGE(first.starts_with(tag), file.string() << ": first line is not '# expect: LINE:COL substring'");
    std::string rest = first.substr(tag.size());
    auto colon = rest.find(':');
    auto space = rest.find(' ');
    REQUIRE_MESSAGE((colon != std::string::npos && space != std::string::npos && colon < space),
                    file.string() << ": malformed expectation");
    Expectation e;
    e.line = std::stoi(rest.substr(0, colon));
    e.column = std::stoi(rest.substr(colon + 1, space - colon - 1));
    e.substring = rest.substr(space + 1);
    REQUIRE(!e.substring.empty());
    return e;
}

bool has_match(const std::vector<Diagnostic>& ds, Severity severity, const Expectation& e) {
    return std::any_of(ds.begin(), ds.end(), [&](const Diagnostic& d) {
        return d.severity == severity && d.location.line == e.line && d.location.column == e.column &&
               d.to_string().find(e.substring) != std::string::npos;
    });
}

std::string dump(const std::vector<Diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) out += "\n  " + d.to_string();
    return out;
}

std::string packaged_trust_domain() {
    auto config = load_agent_config((source_root() / "packaging/credgate.yaml").string());
    REQUIRE_MESSAGE(config.has_value(), "packaging/credgate.yaml does not load" << (config ? "" : dump(config.error())));
    return config->value.trust_domain;
}

}  // namespace

TEST_CASE("every invalid policy fixture reports the error its first line names, at that line and column") {
    auto files = yaml_files(source_root() / "tests/fixtures/policies/invalid");
    REQUIRE(files.size() >= 25);
    const std::string td = packaged_trust_domain();
    for (const auto& f : files) {
        CAPTURE(f.string());
        Expectation e = read_expectation(f);
        auto r = load_policies({f.string()}, td);
        REQUIRE_MESSAGE(!r.has_value(), f.string() << " loaded, but it must fail");
        CHECK_MESSAGE(has_match(r.error(), Severity::error, e),
                      f.string() << ": no error at " << e.line << ":" << e.column << " containing '" << e.substring
                                 << "'; got:" << dump(r.error()));
    }
}

TEST_CASE("every invalid settings fixture reports the error its first line names") {
    auto files = yaml_files(source_root() / "tests/fixtures/policies/config-invalid");
    REQUIRE(files.size() >= 10);
    for (const auto& f : files) {
        CAPTURE(f.string());
        Expectation e = read_expectation(f);
        auto r = load_agent_config(f.string());
        REQUIRE_MESSAGE(!r.has_value(), f.string() << " loaded, but it must fail");
        CHECK_MESSAGE(has_match(r.error(), Severity::error, e),
                      f.string() << ": no error at " << e.line << ":" << e.column << " containing '" << e.substring
                                 << "'; got:" << dump(r.error()));
    }
}

TEST_CASE("every warning fixture loads and reports its warning") {
    auto files = yaml_files(source_root() / "tests/fixtures/policies/warnings");
    REQUIRE(files.size() >= 2);
    for (const auto& f : files) {
        CAPTURE(f.string());
        Expectation e = read_expectation(f);
        auto r = load_policies({f.string()}, std::string("example.org"));
        REQUIRE_MESSAGE(r.has_value(), f.string() << " must load:" << (r ? "" : dump(r.error())));
        CHECK_MESSAGE(has_match(r->warnings, Severity::warning, e),
                      f.string() << ": no warning at " << e.line << ":" << e.column << " containing '" << e.substring
                                 << "'; got:" << dump(r->warnings));
    }
}

TEST_CASE("every example policy loads, alone and as one directory") {
    const std::string td = packaged_trust_domain();
    auto dir = source_root() / "policies/examples";
    auto files = yaml_files(dir);
    REQUIRE(files.size() >= 3);
    for (const auto& f : files) {
        CAPTURE(f.string());
        auto r = load_policies({f.string()}, td);
        CHECK_MESSAGE(r.has_value(), f.string() << " does not load:" << (r ? "" : dump(r.error())));
    }
    auto all = load_policies({dir.string()}, td);
    REQUIRE_MESSAGE(all.has_value(), "policies/examples does not load:" << (all ? "" : dump(all.error())));
    CHECK(all->files.size() == files.size());
    CHECK(all->warnings.empty());
}

TEST_CASE("the seed example declares the scenario's four objects with a strong selector") {
    auto r = load_policies({(source_root() / "policies/examples/ai-agent-openai.yaml").string()}, packaged_trust_domain());
    REQUIRE(r.has_value());
    const PolicySet& s = r->value;
    REQUIRE(s.services.size() == 1);
    CHECK(s.services[0].meta.name == "openai-api");
    CHECK(s.services[0].external);
    REQUIRE(s.sources.size() == 1);
    CHECK(s.sources[0].meta.name == "vault-openai-apikeys");
    CHECK(s.sources[0].vault.path == "openai/creds/my-role");
    REQUIRE(s.bindings.size() == 1);
    CHECK(s.bindings[0].meta.name == "vault-openai-apikeys-binding");
    CHECK(s.bindings[0].propagation == DeliveryBackend::sysfs);
    CHECK(s.bindings[0].output.file_name == "vault.json");
    const WorkloadIdentity* id = s.identity_by_workload_id("ai-agent");
    REQUIRE(id != nullptr);
    REQUIRE(id->selectors.size() == 1);
    std::vector<SelectorKey> keys;
    for (const auto& t : id->selectors[0].terms) keys.push_back(t.key);
    auto has = [&](SelectorKey k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
    CHECK(has(SelectorKey::process_path));
    CHECK((has(SelectorKey::systemd_unit) || has(SelectorKey::process_uid)));
    CHECK(has(SelectorKey::process_name));
}

TEST_CASE("the packaged settings file loads with the documented defaults") {
    auto r = load_agent_config((source_root() / "packaging/credgate.yaml").string());
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
    const AgentConfig& c = r->value;
    CHECK(c.issuer.algorithm == SigningAlgorithm::es256);
    CHECK(c.issuer.token_ttl == std::chrono::minutes(5));
    CHECK(c.issuer.key_rotation == std::chrono::hours(24));
    CHECK(c.delivery.backend == DeliveryBackend::auto_select);
    CHECK(c.enforcement.mode == EnforcementMode::enforce);
    CHECK(c.policies_dir == "/etc/credgate/policies.d");
    CHECK(c.revoke_on_shutdown);
    CHECK(r->warnings.empty());
}
