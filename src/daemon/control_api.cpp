// SPDX-License-Identifier: Apache-2.0
// The control API's decoded commands run against the daemon, and their JSON rendering (the control_*.cpp
// files and audit_feed.cpp are the only places in src/daemon that see rapidjson).
#include "daemon/control_api.hpp"

#include "common/log.hpp"
#include "common/time_text.hpp"
#include "daemon/control_audit.hpp"
#include "daemon/control_identities.hpp"
#include "daemon/control_json.hpp"
#include "daemon/control_request.hpp"
#include "daemon/handover_window.hpp"
#include "policy/values.hpp"
#include "protection/file_owner.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <unistd.h>

namespace credgate::daemon {
namespace {

using namespace control_json;

void write_binding(Writer& w, const BindingSnapshot& b, TimePoint now) {
    const auto& d = b.definition;
    w.StartObject();
    str(w, "apiVersion", policy::kApiVersion);
    str(w, "kind", "CredentialBinding");
    key(w, "metadata");
    w.StartObject();
    str(w, "name", d.binding.meta.name);
    if (!d.binding.meta.labels.empty()) {
        key(w, "labels");
        w.StartObject();
        for (const auto& [k, v] : d.binding.meta.labels) str(w, k, v);
        w.EndObject();
    }
    w.EndObject();

    key(w, "spec");
    w.StartObject();
    str(w, "workloadID", d.binding.workload_id);
    str(w, "credentialSource", d.binding.credential_source);
    key(w, "propagation");  // as written; status.<backend> says where it went
    w.StartObject();
    key(w, policy::to_string(d.binding.propagation));
    w.StartObject();
    w.EndObject();
    w.EndObject();
    key(w, "output");
    w.StartObject();
    str(w, "file", d.binding.output.file_name);
    str(w, "format", policy::to_string(d.binding.output.format));
    if (d.binding.output.field) str(w, "field", *d.binding.output.field);
    w.EndObject();
    key(w, "refresh");
    w.StartObject();
    key(w, "leaseFractionMin");
    w.Double(d.binding.refresh.lease_fraction_min);
    key(w, "leaseFractionMax");
    w.Double(d.binding.refresh.lease_fraction_max);
    str(w, "minLead", policy::format_duration(d.binding.refresh.min_lead));
    str(w, "staticInterval", policy::format_duration(d.binding.refresh.static_interval));
    str(w, "revokeGrace", policy::format_duration(d.binding.refresh.revoke_grace));
    w.EndObject();
    w.EndObject();

    key(w, "status");
    w.StartObject();
    str(w, "state", b.state);
    str(w, "message", b.message);
    if (!b.warnings.empty()) {
        strings(w, "warnings", b.warnings);
    }
    str(w, "spiffeID", d.spiffe_id);
    str(w, "workloadIdentity", d.identity.meta.name);
    key(w, "source");
    w.StartObject();
    str(w, "name", d.source.meta.name);
    str(w, "vaultAddress", d.source.vault.address);
    str(w, "path", d.source.vault.path);
    str(w, "authMount", d.source.vault.jwt_auth_method_path);
    str(w, "role", d.source.vault.role);
    strings(w, "audience", d.source.vault.audience);
    w.EndObject();
    key(w, b.propagation);
    w.StartObject();
    // Only files that exist: a binding whose secret expired or was never delivered lists none.
    key(w, "files");
    w.StartArray();
    if (b.published) {
        w.StartObject();
        str(w, "path", b.path);
        str(w, "type", "CREDENTIAL");
        u64(w, "uid", b.file_uid);
        str(w, "mode", fmt::format("{:04o}", b.file_mode));
        w.EndObject();
    }
    w.EndArray();
    if (!b.engine) {
        // Blocked: nothing is published, so nothing is said about who could read it.
    } else if (b.pinned_uid) {
        u64(w, "ownerUID", *b.pinned_uid);
    } else {
        str(w, "note", protection::kOnlyKernelGate);
    }
    w.EndObject();
    if (b.engine) {
        const auto& e = *b.engine;
        if (!e.lease_id.empty() || b.lease_duration.count() > 0) {
            key(w, "lease");
            w.StartObject();
            str(w, "id", e.lease_id);
            i64(w, "durationSeconds", b.lease_duration.count());
            w.EndObject();
        }
        if (b.token_ttl.count() > 0) {
            i64(w, "tokenTTLSeconds", b.token_ttl.count());
        }
        if (e.secret_expiry) {
            str(w, "expiresAt", rfc3339(*e.secret_expiry));
            i64(w, "expiresInSeconds",
                std::chrono::duration_cast<std::chrono::seconds>(*e.secret_expiry - now).count());
        }
        if (e.next_attempt) str(w, "nextAttemptAt", rfc3339(*e.next_attempt));
        if (e.last_success) str(w, "lastSuccessAt", rfc3339(*e.last_success));
        if (e.last_error) {
            const auto& le = *e.last_error;
            key(w, "lastError");
            w.StartObject();
            str(w, "class", vault::to_string(le.error_class));
            str(w, "operation", vault::to_string(le.operation));
            i64(w, "httpStatus", le.http_status);
            str(w, "explanation", le.explanation);
            str(w, "vaultMessage", le.vault_message);
            boolean(w, "retryable", le.retryable);
            str(w, "at", rfc3339(le.at));
            if (le.resolved_at) str(w, "resolvedAt", rfc3339(*le.resolved_at));
            w.EndObject();
        }
        key(w, "counters");
        w.StartObject();
        for (auto [k, v] : {std::pair<const char*, uint64_t>{"attempts", e.attempts},
                            {"requests", e.requests},
                            {"logins", e.logins},
                            {"reads", e.reads},
                            {"renewals", e.renewals},
                            {"revocations", e.revocations},
                            {"publishes", e.publishes},
                            {"failures", e.failures}}) {
            key(w, k);
            w.Uint64(v);
        }
        u64(w, "tokensHeld", e.tokens_held);
        u64(w, "revocationsPending", e.revocations_pending);
        u64(w, "revocationFailures", e.revocation_failures);
        w.EndObject();
        if (e.next_revocation) str(w, "nextRevocationAt", rfc3339(*e.next_revocation));
    }
    w.EndObject();
    w.EndObject();
}

}  // namespace

std::string binding_json(const BindingSnapshot& binding, TimePoint now) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    write_binding(w, binding, now);
    return sb.GetString();
}

std::string status_json(const DaemonSnapshot& s, TimePoint now) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    key(w, "daemon");
    w.StartObject();
    str(w, "version", s.version);
    i64(w, "pid", s.pid);
    str(w, "config", s.config_path);
    str(w, "trustDomain", s.trust_domain);
    str(w, "node", s.node);
    str(w, "issuer", s.issuer_url);
    str(w, "startedAt", rfc3339(s.started_at));
    key(w, "enforcement");
    w.StartObject();
    str(w, "mode", s.protection);
    str(w, "problem", s.protection_problem);
    w.EndObject();
    key(w, "delivery");
    w.StartObject();
    str(w, "root", s.delivery.root);
    str(w, "filesystem", s.delivery.filesystem);
    boolean(w, "maySwap", s.delivery.may_swap);
    str(w, "reason", s.delivery.reason);
    u64(w, "publishedBytes", s.delivery.published_bytes);
    u64(w, "maxBytes", s.delivery.max_bytes);
    key(w, "sysfs");
    w.StartObject();
    str(w, "root", s.delivery.sysfs_root);
    boolean(w, "moduleLoaded", s.delivery.sysfs_loaded);
    w.EndObject();
    w.EndObject();
    u64(w, "stoppedBindingsRevocationsPending", s.stopped_revocations_pending);
    if (s.last_reload) {
        key(w, "lastReload");
        w.StartObject();
        boolean(w, "ok", s.last_reload->ok);
        str(w, "at", rfc3339(s.last_reload->at));
        strings(w, "errors", s.last_reload->errors);
        w.EndObject();
    }
    if (s.last_clock_event) {
        key(w, "lastClockEvent");
        w.StartObject();
        str(w, "at", rfc3339(s.last_clock_event->at));
        str(w, "what", s.last_clock_event->what);
        str(w, "action", s.last_clock_event->action);
        w.EndObject();
    }
    w.EndObject();
    key(w, "bindings");
    w.StartArray();
    for (const auto& b : s.bindings) write_binding(w, b, now);
    w.EndArray();
    w.EndObject();
    return sb.GetString();
}

std::string issuer_json(const IssuerSnapshot& s) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    str(w, "issuer", s.url);
    str(w, "discoveryURL", s.discovery_url);
    str(w, "jwksURL", s.jwks_url);
    str(w, "algorithm", s.algorithm);
    str(w, "currentKid", s.current_kid);
    strings(w, "publishedKids", s.published_kids);
    str(w, "publicKeyPEM", s.public_key_pem);
    if (s.key_file) str(w, "keyFile", *s.key_file);
    i64(w, "tokenTTLSeconds", s.token_ttl.count());
    i64(w, "keyRotationSeconds", s.key_rotation.count());
    key(w, "bindings");
    w.StartArray();
    for (const auto& b : s.bindings) {
        const auto& v = b.definition.source.vault;
        w.StartObject();
        str(w, "name", b.definition.binding.meta.name);
        str(w, "spiffeID", b.definition.spiffe_id);
        str(w, "vaultAddress", v.address);
        if (v.namespace_) str(w, "namespace", *v.namespace_);
        str(w, "authMount", v.jwt_auth_method_path);
        str(w, "role", v.role);
        str(w, "path", v.path);
        strings(w, "audience", v.audience);
        i64(w, "leaseSeconds", b.lease_duration.count());
        i64(w, "revokeGraceSeconds", b.definition.binding.refresh.revoke_grace.count());
        i64(w, "staticIntervalSeconds", b.definition.binding.refresh.static_interval.count());
        // leaseSeconds 0 with a secret read: the secret has no lease (KV)
        boolean(w, "secretRead", b.engine && b.engine->last_success.has_value());
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return sb.GetString();
}

std::string reload_json(const ReloadOutcome& o) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    boolean(w, "ok", o.ok);
    for (auto [k, list] : {std::pair<const char*, const std::vector<std::string>*>{"errors", &o.errors},
                           {"warnings", &o.warnings},
                           {"started", &o.plan.added},
                           {"restarted", &o.plan.changed},
                           {"stopped", &o.plan.removed},
                           {"unchanged", &o.plan.unchanged}}) {
        key(w, k);
        w.StartArray();
        for (const auto& e : *list) string(w, e);
        w.EndArray();
    }
    w.EndObject();
    return sb.GetString();
}

std::string handover_json(const HandoverOutcome& o) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    boolean(w, "ok", o.ok);
    str(w, "registered", o.registered);
    key(w, "errors");
    w.StartArray();
    if (!o.error.empty()) string(w, o.error);
    w.EndArray();
    if (o.ok) {
        str(w, "windowClosesAt", rfc3339(o.window_closes));
        i64(w, "windowSeconds", std::chrono::duration_cast<std::chrono::seconds>(kHandoverWindow).count());
    }
    w.EndObject();
    return sb.GetString();
}

// The socket file is 0600 already; the peer check is the second lock. Root may always ask; a
// credgated running unprivileged (development) also serves its own uid, because only that uid
// could have opened the socket. Anyone else (a socket file passed around, a mis-set mode) is refused.
bool peer_allowed(const std::optional<http::PeerCredentials>& peer, uid_t own_uid) {
    if (!peer) return false;
    return peer->uid == 0 || peer->uid == own_uid;
}

namespace {

// POST /v1/bindings/<name>/rotate: answered when the rotation ended, or at kRotateReplyTimeout.
void run(App& app, Clock& clock, control::RotateBinding command, http::Responder respond) {
    const std::string name = std::move(command.name);
    // Owned by the completion, so it goes with it; a Responder answers only once.
    std::shared_ptr<Timer> deadline = clock.make_timer();
    deadline->arm(clock.now() + kRotateReplyTimeout, [respond, name] {
        respond(error_response(504, fmt::format("binding '{}' is still fetching a new secret after {} s; it goes on, "
                                                "and 'credgatectl status' shows when it is delivered",
                                                name, std::chrono::duration_cast<std::chrono::seconds>(
                                                          kRotateReplyTimeout).count())));
    });
    app.rotate(name, [respond, name, deadline, &clock](RotateOutcome outcome) {
        deadline->cancel();
        using R = RotateOutcome::Result;
        switch (outcome.result) {
        case R::rotated: return respond(json_response(200, binding_json(*outcome.binding, clock.now())));
        case R::no_such_binding: return respond(error_response(404, fmt::format("no binding named '{}'", name)));
        case R::blocked:
            return respond(error_response(409, fmt::format("binding '{}' is BLOCKED: {}", name, outcome.message)));
        case R::failed:
            return respond(error_response(502, fmt::format("binding '{}' could not fetch a new secret: {}", name,
                                                           outcome.message)));
        case R::stopping: return respond(error_response(503, outcome.message));
        }
    });
}

void run(App& app, Clock& clock, control::GetStatus, http::Responder respond) {
    const TimePoint now = clock.now();
    respond(json_response(200, status_json(app.status(), now)));
}

void run(App& app, Clock& clock, control::GetBinding command, http::Responder respond) {
    const TimePoint now = clock.now();
    for (const auto& b : app.status().bindings)
        if (b.definition.binding.meta.name == command.name) return respond(json_response(200, binding_json(b, now)));
    respond(error_response(404, fmt::format("no binding named '{}'", command.name)));
}

void run(App& app, Clock&, control::GetIssuer, http::Responder respond) {
    respond(json_response(200, issuer_json(app.issuer())));
}

void run(App& app, Clock&, control::Reload, http::Responder respond) {
    auto outcome = app.reload();
    respond(json_response(outcome.ok ? 200 : 422, reload_json(outcome)));
}

void run(App& app, Clock&, control::Handover, http::Responder respond) {
    auto outcome = app.handover();
    respond(json_response(outcome.ok ? 200 : 500, handover_json(outcome)));
}

void run(App& app, Clock&, control::GetIdentities, http::Responder respond) { serve_identities(app, respond); }

void run(App& app, Clock&, control::Explain command, http::Responder respond) {
    serve_explain(app, command, respond);
}

void run(App& app, Clock&, control::ReadAudit command, http::Responder respond) {
    serve_audit(app, command, respond);
}

}  // namespace

http::Handler control_handler(App& app, Clock& clock) {
    return [&app, &clock](const http::ServerRequest& req, http::Responder respond) {
        if (!peer_allowed(req.peer, ::geteuid())) {
            log::warning(
                "daemon",
                "Refused a control request from uid {} (pid {}): only root or uid {} may use the control socket",
                req.peer ? static_cast<long>(req.peer->uid) : -1L, req.peer ? static_cast<long>(req.peer->pid) : -1L,
                static_cast<long>(::geteuid()));
            respond(error_response(403, "permission denied: the control socket is for root only"));
            return;
        }
        auto command = decode_control_request(req);
        if (!command) return respond(refusal_response(command.error()));
        std::visit([&](auto& c) { run(app, clock, std::move(c), std::move(respond)); }, *command);
    };
}

}  // namespace credgate::daemon
