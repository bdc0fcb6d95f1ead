// SPDX-License-Identifier: Apache-2.0
// The loader and validator through their public interfaces: what an operator sees for good and bad
// policies and settings, located to the line and column.
#include "policy/loader.hpp"
#include "policy/validate.hpp"
#include "policy/values.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace credgate::policy;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::optional<std::string> kTd = std::string("example.org");

constexpr const char* kIdentity = R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  workloadID: agent
  selectors:
    - process:path: /opt/agent/bin/agent
      systemd:unit: agent.service
)";

constexpr const char* kSource = R"(apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata:
  name: src
spec:
  vault:
    address: http://127.0.0.1:8200
    role: r
    path: openai/creds/r
    audience: vault
)";

std::string binding(std::string_view workload_id = "agent", std::string_view source = "src") {
    return "apiVersion: credgate.io/v1alpha1\nkind: CredentialBinding\nmetadata:\n  name: b\nspec:\n  workloadID: " +
           std::string(workload_id) + "\n  credentialSource: " + std::string(source) + "\n";
}

std::string docs(std::initializer_list<std::string> parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += "---\n";
        out += p;
    }
    return out;
}

// The one error (or warning) matching all of line, column and substring, or nullptr.
const Diagnostic* find(const std::vector<Diagnostic>& ds, int line, int column, std::string_view text,
                       Severity severity = Severity::error) {
    for (const auto& d : ds)
        if (d.severity == severity && d.location.line == line && d.location.column == column &&
            d.to_string().find(text) != std::string::npos)
            return &d;
    return nullptr;
}

std::string dump(const std::vector<Diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) out += "\n  " + d.to_string();
    return out;
}

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "credgate-policy-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    fs::path write(const std::string& name, const std::string& text) const {
        fs::path p = path_ / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p;
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

}  // namespace

TEST_CASE("a complete policy loads into the model with defaults applied") {
    auto r = load_policies_from_string(docs({kIdentity, kSource, binding()}), "p.yaml", kTd);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
    const PolicySet& s = r->value;
    REQUIRE(s.identities.size() == 1);
    REQUIRE(s.identities[0].selectors.size() == 1);
    REQUIRE(s.identities[0].selectors[0].terms.size() == 2);
    CHECK(s.identities[0].selectors[0].terms[0].key == SelectorKey::process_path);
    CHECK(s.identities[0].selectors[0].terms[0].values == std::vector<std::string>{"/opt/agent/bin/agent"});
    CHECK(s.identities[0].selectors[0].terms[1].location.line == 9);
    CHECK(s.sources[0].vault.audience == std::vector<std::string>{"vault"});
    CHECK(s.sources[0].vault.jwt_auth_method_path == "jwt");
    CHECK(s.sources[0].vault.method == "GET");
    const auto& b = s.bindings[0];
    CHECK(b.propagation == DeliveryBackend::auto_select);
    CHECK(b.output.file_name == "vault.json");
    CHECK(b.output.format == OutputFormat::json);
    CHECK(b.refresh.min_lead == 30s);
    CHECK(b.meta.location.line == 22);
    CHECK(r->warnings.empty());
}

TEST_CASE("process:name alone is rejected at the alternative's line and column") {
    auto r = load_policies_from_string(R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  workloadID: agent
  selectors:
    - process:uid: 1000
      systemd:unit: a.service
    - process:name: [agent]
)",
                                       "weak.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    const Diagnostic* d = find(r.error(), 10, 7, "process:name alone is spoofable");
    REQUIRE_MESSAGE(d != nullptr, dump(r.error()));
    CHECK(d->object == "WorkloadIdentity/agent");
    CHECK(d->field == "spec.selectors[1]");
    CHECK(d->to_string().starts_with("weak.yaml:10:7: WorkloadIdentity/agent: spec.selectors[1]: process:name alone"));
}

TEST_CASE("process:name alone with allowWeakSelectors loads with a warning") {
    auto r = load_policies_from_string(R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  workloadID: agent
  allowWeakSelectors: true
  selectors:
    - process:name: agent
)",
                                       "weak.yaml", kTd);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
    REQUIRE(r->warnings.size() == 1);
    const Diagnostic& w = r->warnings[0];
    CHECK(w.severity == Severity::warning);
    CHECK(w.to_string().starts_with("weak.yaml:9:7: warning: WorkloadIdentity/agent: spec.selectors[0]: "));
}

TEST_CASE("an identity that names only the program loads with an LD_PRELOAD warning recommending a stronger key") {
    auto r = load_policies_from_string(R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  workloadID: agent
  selectors:
    - process:path: /usr/bin/python3
      process:name: python3
    - process:sha256: 0f3c4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f
      process:uid: 1000
)",
                                       "p.yaml", kTd);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
    REQUIRE(r->warnings.size() == 1);  // the second alternative names the uid: no warning
    const Diagnostic* w = find(r->warnings, 8, 7, "LD_PRELOAD", Severity::warning);
    REQUIRE(w != nullptr);
    CHECK(w->message.find("systemd:unit") != std::string::npos);
    CHECK(w->message.find("process:uid") != std::string::npos);
}

TEST_CASE("unknown keys are errors at every level, located at the key") {
    auto r = load_policies_from_string(R"(apiVersion: credgate.io/v1alpha1
kind: CredentialSource
metadata:
  name: src
  annotations: {}
spec:
  vault:
    address: http://127.0.0.1:8200
    role: r
    path: p
    audience: [vault]
    tlsSkipVerify: true
extra: 1
)",
                                       "u.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(find(r.error(), 5, 3, "metadata.annotations: unknown key 'annotations'"), dump(r.error()));
    CHECK_MESSAGE(find(r.error(), 12, 5, "spec.vault.tlsSkipVerify: unknown key 'tlsSkipVerify'"), dump(r.error()));
    CHECK_MESSAGE(find(r.error(), 13, 1, "unknown key 'extra'"), dump(r.error()));
    CHECK(r.error().size() == 3);
}

TEST_CASE("duplicate mapping keys are errors at the second key") {
    auto r = load_policies_from_string(R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  workloadID: agent
  selectors:
    - process:uid: 1000
      systemd:unit: a.service
      process:uid: 0
)",
                                       "d.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    const Diagnostic* d = find(r.error(), 10, 7, "duplicate key 'process:uid' (first at line 8, column 7)");
    CHECK_MESSAGE(d != nullptr, dump(r.error()));
}

TEST_CASE("a binding whose identity or source does not exist is rejected at the reference") {
    auto r = load_policies_from_string(docs({kIdentity, kSource, binding("ai-agent", "vault")}), "x.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(find(r.error(), 27, 15, "CredentialBinding/b: spec.workloadID: no WorkloadIdentity has workloadID 'ai-agent'"),
                  dump(r.error()));
    CHECK_MESSAGE(find(r.error(), 28, 21, "spec.credentialSource: no CredentialSource is named 'vault'"), dump(r.error()));
}

TEST_CASE("references resolve across files of one load") {
    TempDir dir;
    dir.write("a-identity.yaml", kIdentity);
    dir.write("b-binding.yml", binding());
    dir.write("c-source.yaml", kSource);
    dir.write("notes.txt", "not yaml: [");
    dir.write("sub/ignored.yaml", "not: [valid");
    auto r = load_policies({dir.path().string()}, kTd);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
    REQUIRE(r->files.size() == 3);
    CHECK(fs::path(r->files[0]).filename() == "a-identity.yaml");
    CHECK(fs::path(r->files[1]).filename() == "b-binding.yml");
    CHECK(fs::path(r->files[2]).filename() == "c-source.yaml");
}

TEST_CASE("a bad SPIFFE path is reported at the workloadID value") {
    auto r = load_policies_from_string(R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  workloadID:   team/./agent
  selectors:
    - systemd:unit: a.service
)",
                                       "s.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(find(r.error(), 6, 17, "spec.workloadID: workload ID must not contain a '.' path segment"),
                  dump(r.error()));
}

TEST_CASE("the SPIFFE ID length limit counts the trust domain, and is skipped without one") {
    std::string long_path(2048 - std::string("spiffe://example.org/").size() + 1, 'a');
    std::string yaml = std::string(kIdentity);
    yaml.replace(yaml.find("workloadID: agent"), 17, "workloadID: " + long_path);
    auto with_td = load_policies_from_string(yaml, "l.yaml", kTd);
    REQUIRE_FALSE(with_td.has_value());
    CHECK_MESSAGE(find(with_td.error(), 6, 15, "longer than the limit of 2048"), dump(with_td.error()));
    auto without_td = load_policies_from_string(yaml, "l.yaml", std::nullopt);
    CHECK(without_td.has_value());
    yaml.replace(yaml.find(long_path), long_path.size(), long_path.substr(1));
    CHECK(load_policies_from_string(yaml, "l.yaml", kTd).has_value());
}

TEST_CASE("every error of a load is reported, in file order, and nothing is returned") {
    std::string bad_identity = R"(apiVersion: credgate.io/v1alpha1
kind: WorkloadIdentity
metadata:
  name: agent
spec:
  workloadID: agent
  selectors:
    - process:path: relative/path
      process:uid: -5
)";
    std::string bad_source = std::string(kSource);
    bad_source.replace(bad_source.find("http://127.0.0.1:8200"), 21, "ftp://vault");
    auto r = load_policies_from_string(docs({bad_identity, bad_source, binding("agent", "nope")}), "all.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    const auto& e = r.error();
    CHECK_MESSAGE(e.size() == 4, dump(e));
    CHECK(find(e, 8, 21, "is not an absolute path"));
    CHECK(find(e, 9, 20, "non-negative integer"));
    CHECK(find(e, 17, 14, "must be an http:// or https:// URL"));
    CHECK(find(e, 28, 21, "no CredentialSource is named 'nope'"));
    CHECK(std::is_sorted(e.begin(), e.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return a.location.line < b.location.line;
    }));
}

TEST_CASE("YAML syntax errors are diagnostics with their location, and other files are still checked") {
    TempDir dir;
    auto broken = dir.write("a.yaml", "apiVersion: credgate.io/v1alpha1\nkind: [Service\n");
    auto other = dir.write("b.yaml", binding("ghost", "src"));
    auto r = load_policies({broken.string(), other.string()}, kTd);
    REQUIRE_FALSE(r.has_value());
    const auto& e = r.error();
    REQUIRE(e.size() >= 2);
    CHECK(e[0].location.file == broken.string());
    CHECK(e[0].location.line >= 2);
    CHECK(e[0].message.find("YAML syntax error") != std::string::npos);
    CHECK(std::any_of(e.begin(), e.end(), [&](const Diagnostic& d) {
        return d.location.file == other.string() && d.message.find("'ghost'") != std::string::npos;
    }));
}

TEST_CASE("a missing path is an error naming the path") {
    auto r = load_policies({"/nonexistent/credgate/policies.d"}, kTd);
    REQUIRE_FALSE(r.has_value());
    REQUIRE(r.error().size() == 1);
    CHECK(r.error()[0].to_string().starts_with("/nonexistent/credgate/policies.d: cannot read"));
}

TEST_CASE("duplicate names per kind and duplicate workloadIDs are rejected at the later object") {
    std::string second = std::string(kIdentity);
    second.replace(second.find("agent.service"), 13, "other.service");
    auto r = load_policies_from_string(docs({kIdentity, second}), "dup.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    CHECK_MESSAGE(find(r.error(), 14, 9, "duplicate name 'agent': WorkloadIdentity/agent at dup.yaml:4:9"), dump(r.error()));
    CHECK_MESSAGE(find(r.error(), 16, 15, "duplicate workloadID 'agent'"), dump(r.error()));
    // The same name in different kinds is fine.
    std::string source = std::string(kSource);
    source.replace(source.find("name: src"), 9, "name: agent");
    std::string b = binding("agent", "agent");
    auto ok = load_policies_from_string(docs({kIdentity, source, b}), "ok.yaml", kTd);
    CHECK_MESSAGE(ok.has_value(), (ok ? "" : dump(ok.error())));
}

TEST_CASE("binding output, propagation and refresh settings are read and checked") {
    std::string b = binding() + R"(  propagation: {file: {}}
  output:
    format: raw
    field: api_key
  refresh:
    leaseFractionMin: 0.5
    leaseFractionMax: 0.75
    minLead: 1m30s
    staticInterval: 1h
    revokeGrace: 0s
)";
    auto r = load_policies_from_string(docs({kIdentity, kSource, b}), "b.yaml", kTd);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
    const auto& bd = r->value.bindings[0];
    CHECK(bd.propagation == DeliveryBackend::file);
    CHECK(bd.output.format == OutputFormat::raw);
    CHECK(bd.output.field == std::optional<std::string>("api_key"));
    CHECK(bd.output.file_name == "vault.txt");
    CHECK(bd.refresh.lease_fraction_min == doctest::Approx(0.5));
    CHECK(bd.refresh.min_lead == 90s);
    CHECK(bd.refresh.static_interval == 1h);
    CHECK(bd.refresh.revoke_grace == 0s);
}

TEST_CASE("durations accept h, m and s groups in order and nothing else") {
    CHECK(parse_duration("90s") == 90s);
    CHECK(parse_duration("15m") == 15min);
    CHECK(parse_duration("1h") == 1h);
    CHECK(parse_duration("1h30m") == 90min);
    CHECK(parse_duration("2h0m5s") == 7205s);
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("300"));
    CHECK_FALSE(parse_duration("5 m"));
    CHECK_FALSE(parse_duration("1m1h"));
    CHECK_FALSE(parse_duration("1m1m"));
    CHECK_FALSE(parse_duration("-5s"));
    CHECK_FALSE(parse_duration("1.5h"));
    CHECK_FALSE(parse_duration("1d"));
    CHECK_FALSE(parse_duration("999999999999h"));
    CHECK(format_duration(5405s) == "1h30m5s");
}

TEST_CASE("each selector key has one spelling, and an unknown key's error lists them all") {
    const SelectorKey keys[] = {SelectorKey::process_path,  SelectorKey::process_sha256, SelectorKey::process_uid,
                                SelectorKey::process_gid,   SelectorKey::process_user,   SelectorKey::process_group,
                                SelectorKey::systemd_unit,  SelectorKey::cgroup_path,    SelectorKey::process_name};
    for (SelectorKey k : keys) {
        CHECK(selector_key_from_string(to_string(k)) == k);
        CHECK(selector_key_list().find(std::string(to_string(k))) != std::string::npos);
    }
    CHECK(selector_key_list() ==
          "process:path, process:sha256, process:uid, process:gid, process:user, process:group, systemd:unit, "
          "cgroup:path, process:name");
    CHECK_FALSE(selector_key_from_string("process:exe"));
}

TEST_CASE("selector value rules") {
    CHECK_FALSE(selector_value_error(SelectorKey::process_path, "/usr/bin/python3"));
    CHECK(selector_value_error(SelectorKey::process_path, "/usr/bin/"));
    CHECK(selector_value_error(SelectorKey::process_path, "/usr//bin"));
    CHECK_FALSE(selector_value_error(SelectorKey::process_uid, "0"));
    CHECK_FALSE(selector_value_error(SelectorKey::process_uid, "4294967294"));
    CHECK(selector_value_error(SelectorKey::process_uid, "4294967295"));
    CHECK(selector_value_error(SelectorKey::process_gid, "1e3"));
    CHECK_FALSE(selector_value_error(SelectorKey::process_user, "www-data"));
    CHECK_FALSE(selector_value_error(SelectorKey::process_group, "_ssh"));
    CHECK(selector_value_error(SelectorKey::process_user, "bad name"));
    CHECK_FALSE(selector_value_error(SelectorKey::systemd_unit, "getty@tty1.service"));
    CHECK_FALSE(selector_value_error(SelectorKey::systemd_unit, "session-3.scope"));
    CHECK_FALSE(selector_value_error(SelectorKey::systemd_unit, "user-1000.slice"));
    CHECK(selector_value_error(SelectorKey::systemd_unit, "agent.exe"));
    CHECK(selector_value_error(SelectorKey::systemd_unit, ".service"));
    CHECK_FALSE(selector_value_error(SelectorKey::cgroup_path, "/system.slice/agent.service"));
    CHECK_FALSE(selector_value_error(SelectorKey::process_name, std::string(15, 'a')));
    CHECK(selector_value_error(SelectorKey::process_name, std::string(16, 'a')));
    CHECK(selector_value_error(SelectorKey::process_name, ""));
    CHECK_FALSE(selector_value_error(SelectorKey::process_sha256, std::string(64, 'A')));
}

TEST_CASE("Vault addresses are http(s) URLs with a host") {
    CHECK_FALSE(http_url_error("http://localhost:8200"));
    CHECK_FALSE(http_url_error("https://[::1]:8200"));
    CHECK_FALSE(http_url_error("https://vault.example.org"));
    CHECK(http_url_error("vault.example.org:8200"));
    CHECK(http_url_error("https://"));
    CHECK(http_url_error("https://:8200"));
    CHECK(http_url_error("https://user@vault"));
    CHECK(http_url_error("https://vault:99999"));
    CHECK(http_url_error("https://vault?x=1"));
}

TEST_CASE("a Vault address is an origin, and every refusal names the address") {
    CHECK_FALSE(vault_address_error("https://vault.example.org:8200"));
    CHECK_FALSE(vault_address_error("http://[::1]:8200/"));
    CHECK(vault_address_error("https://vault:8200/v1") ==
          "'https://vault:8200/v1' must be scheme://host[:port] without a path; the API path goes in 'path'");
    CHECK(vault_address_error("https://vault:8200//") ==
          "'https://vault:8200//' must be scheme://host[:port] without a path; the API path goes in 'path'");
    CHECK(vault_address_error("https://vault:8200/?x=1") == "'https://vault:8200/?x=1' must not have a query");
    CHECK(vault_address_error("https://[vault]:8200") == "'https://[vault]:8200': '[vault]' is not an IPv6 address");
    CHECK(vault_address_error("unix:/run/vault.sock:/") ==
          "'unix:/run/vault.sock:/' must be an http:// or https:// URL");
}

TEST_CASE("a bad Vault address is reported at its field, with the address") {
    std::string bad_source = std::string(kSource);
    bad_source.replace(bad_source.find("http://127.0.0.1:8200"), 21, "http://127.0.0.1:8200/v1/openai");
    auto r = load_policies_from_string(bad_source, "src.yaml", kTd);
    REQUIRE_FALSE(r.has_value());
    std::vector<Diagnostic> errors;
    std::copy_if(r.error().begin(), r.error().end(), std::back_inserter(errors),
                 [](const Diagnostic& d) { return d.severity == Severity::error; });
    REQUIRE_MESSAGE(errors.size() == 1, dump(r.error()));
    CHECK(errors[0].object == "CredentialSource/src");
    CHECK(errors[0].field == "spec.vault.address");
    CHECK(errors[0].location.line == 7);
    CHECK(errors[0].message == "'http://127.0.0.1:8200/v1/openai' must be scheme://host[:port] without a path; "
                               "the API path goes in 'path'");
}

TEST_CASE("output file names cannot escape the binding's directory") {
    CHECK_FALSE(file_name_error("vault.json"));
    CHECK_FALSE(file_name_error(".env"));
    CHECK(file_name_error(""));
    CHECK(file_name_error("."));
    CHECK(file_name_error(".."));
    CHECK(file_name_error("a/b"));
    CHECK(file_name_error("/etc/passwd"));
    CHECK(file_name_error(std::string("a\0b", 3)));
    CHECK(file_name_error(std::string(256, 'x')));
}

TEST_CASE("a policy built in code is validated without locations") {
    PolicySet set;
    WorkloadIdentity id;
    id.meta.name = "agent";
    id.workload_id = "agent";
    id.selectors.push_back(SelectorAlternative{{SelectorTerm{SelectorKey::process_name, {"agent"}, {}}}, {}});
    set.identities.push_back(id);
    CredentialBinding b;
    b.meta.name = "b";
    b.workload_id = "agent";
    b.credential_source = "missing";
    set.bindings.push_back(b);
    auto ds = validate_policy_set(set, kTd);
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].to_string() == "<input>: WorkloadIdentity/agent: spec.selectors[0]: " + ds[0].message);
    CHECK(ds[0].message.starts_with("process:name alone is spoofable"));
    CHECK(ds[1].message == "no CredentialSource is named 'missing'");
}

TEST_CASE("settings: a minimal file gets every default; every value error is located") {
    auto ok = load_agent_config_from_string("trustDomain: example.org\nissuer:\n  url: https://node1.example.org:8421\n",
                                            "c.yaml");
    REQUIRE_MESSAGE(ok.has_value(), (ok ? "" : dump(ok.error())));
    const AgentConfig& c = ok->value;
    CHECK(c.trust_domain == "example.org");
    CHECK(c.issuer.listen == "127.0.0.1:8421");
    CHECK(c.issuer.token_ttl == 5min);
    CHECK(c.delivery.file_root == "/run/credgate/credentials");
    CHECK(c.control.socket == "/run/credgate/control.sock");
    CHECK_FALSE(c.metrics.listen.has_value());
    CHECK(c.revoke_on_shutdown);

    auto bad = load_agent_config_from_string(R"(trustDomain: Example.org
issuer:
  url: http://127.0.0.1:8421/
  algorithm: HS256
  tokenTTL: 5
metrics:
  listen: "[::1]"
revokeOnShutdown: maybe
)",
                                             "c.yaml");
    REQUIRE_FALSE(bad.has_value());
    const auto& e = bad.error();
    CHECK_MESSAGE(e.size() == 6, dump(e));
    CHECK(find(e, 1, 14, "c.yaml:1:14: trustDomain: trust domain must be lowercase"));
    CHECK(find(e, 3, 8, "must not end with '/'"));
    CHECK(find(e, 4, 14, "unknown value 'HS256' (expected one of: ES256, RS256, EdDSA)"));
    CHECK(find(e, 5, 13, "'5' is not a duration"));
    CHECK(find(e, 7, 11, "a port is required"));
    CHECK(find(e, 8, 19, "must be true or false"));
}

TEST_CASE("settings: an empty file or a second document is an error") {
    CHECK_FALSE(load_agent_config_from_string("", "c.yaml").has_value());
    CHECK_FALSE(load_agent_config_from_string("trustDomain: a\n---\ntrustDomain: b\n", "c.yaml").has_value());
}

TEST_CASE("settings: a trailing document separator is accepted") {
    auto r = load_agent_config_from_string("trustDomain: example.org\nissuer: {url: 'http://127.0.0.1:8421'}\n---\n",
                                           "c.yaml");
    CHECK_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
}

TEST_CASE("a settings file given as a policy, or a policy given as settings, is named as such in one error") {
    auto as_policy = load_policies_from_string("trustDomain: example.org\nissuer:\n  url: http://127.0.0.1:8421\n",
                                               "credgate.yaml", kTd);
    REQUIRE_FALSE(as_policy.has_value());
    REQUIRE(as_policy.error().size() == 1);
    CHECK(as_policy.error()[0].to_string() ==
          "credgate.yaml:1:1: this is the agent settings file (credgate.yaml), not a policy document; pass it with --config");

    auto as_settings = load_agent_config_from_string(kIdentity, "agent.yaml");
    REQUIRE_FALSE(as_settings.has_value());
    REQUIRE(as_settings.error().size() == 1);
    CHECK(as_settings.error()[0].message.find("looks like a policy document") != std::string::npos);
}

TEST_CASE("a finding is always one line, whatever the file contains") {
    Diagnostic d{Severity::error, {"f.yaml", 3, 4}, "Service/s", "spec.labels.a", "bad value 'x\ny\x1b[31m'"};
    CHECK(d.to_string() == "f.yaml:3:4: Service/s: spec.labels.a: bad value 'x\\x0ay\\x1b[31m'");
}

TEST_CASE("policies beyond the kernel rule limits are invalid") {
    PolicySet set;
    WorkloadIdentity id;
    id.meta.name = "agent";
    id.workload_id = "agent";
    for (std::size_t i = 0; i < kMaxSelectorAlternatives; ++i)
        id.selectors.push_back(SelectorAlternative{{SelectorTerm{SelectorKey::process_uid, {std::to_string(i)}, {}}}, {}});
    set.identities.push_back(id);
    CredentialSource src;
    src.meta.name = "src";
    src.vault.address = "http://127.0.0.1:8200";
    src.vault.role = "r";
    src.vault.path = "kv/data/x";
    src.vault.audience = {"vault"};
    set.sources.push_back(src);
    for (std::size_t i = 0; i < kMaxBindings; ++i) {
        CredentialBinding b;
        b.meta.name = "b" + std::to_string(i);
        b.workload_id = "agent";
        b.credential_source = "src";
        set.bindings.push_back(b);
    }
    CHECK_MESSAGE(validate_policy_set(set, kTd).empty(), dump(validate_policy_set(set, kTd)));

    set.identities[0].selectors.push_back(set.identities[0].selectors[0]);
    set.bindings.push_back(set.bindings[0]);
    set.bindings.back().meta.name = "one-too-many";
    auto ds = validate_policy_set(set, kTd);
    REQUIRE(ds.size() == 2);
    CHECK(ds[0].to_string() == "<input>: WorkloadIdentity/agent: spec.selectors: 9 alternatives; the kernel rules hold at most 8 per identity");
    CHECK(ds[1].to_string() == "<input>: CredentialBinding/one-too-many: 10001 bindings; the kernel rules hold at most 10000");
}

TEST_CASE("an optional section with no value takes its defaults; a required one does not") {
    std::string b = binding() + "  propagation:\n  output:\n  refresh:\n";
    auto r = load_policies_from_string(docs({kIdentity, kSource, b}), "n.yaml", kTd);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : dump(r.error())));
    CHECK(r->value.bindings[0].propagation == DeliveryBackend::auto_select);
    CHECK(r->value.bindings[0].output.file_name == "vault.json");

    auto no_vault = load_policies_from_string(
        "apiVersion: credgate.io/v1alpha1\nkind: CredentialSource\nmetadata: {name: s}\nspec:\n  vault:\n", "v.yaml", kTd);
    REQUIRE_FALSE(no_vault.has_value());
    CHECK_MESSAGE(find(no_vault.error(), 5, 3, "spec.vault: must be a mapping, got nothing"), dump(no_vault.error()));
}
