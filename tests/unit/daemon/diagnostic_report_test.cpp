// SPDX-License-Identifier: Apache-2.0
// How credgated reports settings and policy findings: once each, at its severity, and in a
// reload's outcome as errors or warnings.
#include "common/log.hpp"
#include "daemon/diagnostic_report.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::daemon;

namespace {

policy::Diagnostic finding(policy::Severity severity, std::string message) {
    policy::Diagnostic d;
    d.severity = severity;
    d.location.file = "/etc/credgate/policies.d/seed.yaml";
    d.location.line = 12;
    d.location.column = 5;
    d.object = "WorkloadIdentity/ai-agent";
    d.field = "spec.selectors[0]";
    d.message = std::move(message);
    return d;
}

}  // namespace

TEST_CASE("each finding is logged once at its severity and listed in the reload's errors or warnings") {
    const std::vector<policy::Diagnostic> findings{
        finding(policy::Severity::error, "unknown selector key 'process:colour'"),
        finding(policy::Severity::warning, "process:name is spoofable"),
    };
    log::Capture capture;
    ReloadOutcome out;
    report_diagnostics(findings, &out);
    REQUIRE(capture.lines().size() == 2);
    CHECK(capture.lines()[0] == "<3>daemon: " + findings[0].to_string());
    CHECK(capture.lines()[1] == "<4>daemon: " + findings[1].to_string());
    REQUIRE(out.errors.size() == 1);
    CHECK(out.errors[0] == findings[0].to_string());
    REQUIRE(out.warnings.size() == 1);
    CHECK(out.warnings[0] == findings[1].to_string());
    CHECK(out.errors[0].find("seed.yaml:12:5") != std::string::npos);
}

TEST_CASE("findings at start-up are only logged") {
    log::Capture capture;
    report_diagnostics({finding(policy::Severity::warning, "process:name is spoofable")});
    REQUIRE(capture.lines().size() == 1);
    CHECK(capture.lines()[0].starts_with("<4>daemon: "));
}
