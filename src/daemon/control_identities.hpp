// SPDX-License-Identifier: Apache-2.0
// The control API's view of running processes against identities: GET /v1/identities (who matches
// which identity, and who runs a bound program without matching) and GET /v1/explain?pid=P[&binding=B].
#pragma once

#include "daemon/app.hpp"
#include "daemon/control_request.hpp"
#include "http/server.hpp"
#include "identity/explain.hpp"
#include "identity/process_facts.hpp"

#include <string>
#include <vector>

namespace credgate::daemon {

// GET /v1/identities and GET /v1/explain, decoded by decode_control_request.
void serve_identities(App& app, const http::Responder& respond);
void serve_explain(App& app, const control::Explain& command, const http::Responder& respond);

// The facts of `pid` with the executed file the kernel recorded, where credgated enforces.
Result<identity::ProcessFacts> process_facts(const App& app, pid_t pid);

// One binding's identity checked against one process.
struct BindingExplanation {
    std::string binding;
    std::string identity;
    std::string spiffe_id;
    identity::IdentityCheck check;
    identity::CredentialVerdict verdict;
};

// The documents, rendered from plain data (`enforcement` is the protection mode's name).
std::string explain_json(const identity::ProcessFacts& facts, const std::vector<BindingExplanation>& bindings,
                         const std::string& enforcement);

}  // namespace credgate::daemon
