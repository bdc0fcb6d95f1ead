// SPDX-License-Identifier: Apache-2.0
// The control API on the root-only unix socket (HTTP/1.1 + JSON): GET /v1/status,
// GET /v1/bindings/<name>, POST /v1/bindings/<name>/rotate, GET /v1/issuer, POST /v1/reload,
// POST /v1/handover (routes and their checks in control_request.hpp); and the operator views
// GET /v1/identities, GET /v1/explain (control_identities.hpp), GET /v1/audit (control_audit.hpp).
#pragma once

#include "common/clock.hpp"
#include "daemon/app.hpp"
#include "daemon/snapshot.hpp"
#include "http/server.hpp"

#include <string>
#include <sys/types.h>

namespace credgate::daemon {

// Whether a peer of the control socket may use it (see the comment in control_api.cpp).
bool peer_allowed(const std::optional<http::PeerCredentials>& peer, uid_t own_uid);

// A rotation still fetching after this long is answered 504 (it goes on), well inside the server's
// handler timeout, so the operator hears why rather than a closed connection.
inline constexpr Duration kRotateReplyTimeout{std::chrono::seconds{45}};

// `clock` gives "now" for expiresInSeconds and times rotations; it must outlive the handler.
http::Handler control_handler(App& app, Clock& clock);

// The JSON documents, rendered from snapshots (`now` for "expiresInSeconds").
std::string binding_json(const BindingSnapshot& binding, TimePoint now);
std::string status_json(const DaemonSnapshot& status, TimePoint now);
std::string issuer_json(const IssuerSnapshot& issuer);
std::string reload_json(const ReloadOutcome& outcome);
// {"ok", "registered", "errors", "windowClosesAt", "windowSeconds"}: ok only when the window is armed.
std::string handover_json(const HandoverOutcome& outcome);

}  // namespace credgate::daemon
