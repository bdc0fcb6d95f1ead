// SPDX-License-Identifier: Apache-2.0
// render_metrics: Prometheus text format 0.0.4, one HELP/TYPE block per family.
#include "daemon/metrics.hpp"

#include <fmt/format.h>

#include <map>

namespace credgate::daemon {
namespace {

std::string escape(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

int64_t seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

}  // namespace

std::string render_metrics(const DaemonSnapshot& s, TimePoint now) {
    std::string out;
    family(out, "credgate_build_info", "gauge", "credgated's version and source revision; always 1.");
    out += fmt::format("credgate_build_info{{version=\"{}\",revision=\"{}\"}} 1\n", escape(s.version),
                       escape(s.revision));

    family(out, "credgate_enforcement_mode", "gauge", "1 for the active publish gate: enforced, insecure or blocked.");
    for (const char* m : {"enforced", "insecure", "blocked"})
        out += fmt::format("credgate_enforcement_mode{{mode=\"{}\"}} {}\n", m, s.protection == m ? 1 : 0);

    family(out, "credgate_issuer_key_age_seconds", "gauge",
           "Seconds since the issuer's current signing key was generated, or its key file written.");
    out += fmt::format("credgate_issuer_key_age_seconds {}\n", seconds(now - s.issuer_key_created));

    family(out, "credgate_audit_events_total", "counter",
           "Kernel decisions on protected objects, by binding (empty for objects of no binding) and verdict.");
    for (const auto& [key, n] : s.audit_events)
        out += fmt::format("credgate_audit_events_total{{binding=\"{}\",verdict=\"{}\"}} {}\n", escape(key.first),
                           escape(key.second), n);

    std::map<std::string, int> by_state;
    for (refresh::State st : refresh::kStates) by_state[refresh::to_string(st)] = 0;
    by_state[kBlockedState] = 0;
    for (const auto& b : s.bindings) ++by_state[b.state];
    family(out, "credgate_bindings", "gauge", "Bindings by state.");
    for (const auto& [st, n] : by_state) out += fmt::format("credgate_bindings{{state=\"{}\"}} {}\n", st, n);

    family(out, "credgate_binding_state", "gauge", "1 for each binding's current state.");
    for (const auto& b : s.bindings)
        out += fmt::format("credgate_binding_state{{binding=\"{}\",state=\"{}\"}} 1\n",
                           escape(b.definition.binding.meta.name), b.state);

    family(out, "credgate_secret_expiry_seconds", "gauge", "Seconds until the delivered secret expires.");
    for (const auto& b : s.bindings)
        if (b.engine && b.engine->secret_expiry)
            out += fmt::format(
                "credgate_secret_expiry_seconds{{binding=\"{}\"}} {}\n", escape(b.definition.binding.meta.name),
                seconds(*b.engine->secret_expiry - now));

    struct Counter {
        const char* name;
        const char* help;
        uint64_t refresh::Status::*field;
    };
    static const Counter kCounters[] = {
        {"credgate_vault_requests_total", "Vault requests issued.", &refresh::Status::requests},
        {"credgate_vault_logins_total", "JWT logins.", &refresh::Status::logins},
        {"credgate_vault_reads_total", "Secret reads.", &refresh::Status::reads},
        {"credgate_vault_renewals_total", "Token and lease renewals.", &refresh::Status::renewals},
        {"credgate_vault_revocations_total", "Token revocation attempts.", &refresh::Status::revocations},
        {"credgate_revocation_failures_total", "Failed token revocation attempts (each one retried).",
         &refresh::Status::revocation_failures},
        {"credgate_publishes_total", "Secrets delivered.", &refresh::Status::publishes},
        {"credgate_refresh_failures_total", "Failed refresh attempts.", &refresh::Status::failures},
    };
    for (const auto& c : kCounters) {
        family(out, c.name, "counter", c.help);
        for (const auto& b : s.bindings)
            if (b.engine)
                out += fmt::format("{}{{binding=\"{}\"}} {}\n", c.name, escape(b.definition.binding.meta.name),
                                   (*b.engine).*(c.field));
    }

    family(out, "credgate_tokens_pending_revocation", "gauge",
           "Login tokens a binding no longer needs and Vault has not yet confirmed revoked.");
    for (const auto& b : s.bindings)
        if (b.engine)
            out += fmt::format("credgate_tokens_pending_revocation{{binding=\"{}\"}} {}\n",
                               escape(b.definition.binding.meta.name), b.engine->revocations_pending);

    family(out, "credgate_stopped_bindings_tokens_pending_revocation", "gauge",
           "Login tokens of bindings a reload stopped or restarted, not yet confirmed revoked.");
    out += fmt::format("credgate_stopped_bindings_tokens_pending_revocation {}\n", s.stopped_revocations_pending);

    family(out, "credgate_last_error", "gauge", "1 for the class of each binding's last error, until a success.");
    for (const auto& b : s.bindings)
        if (b.engine && b.engine->last_error && !b.engine->last_error->resolved_at)
            out +=
                fmt::format("credgate_last_error{{binding=\"{}\",class=\"{}\",operation=\"{}\"}} 1\n",
                            escape(b.definition.binding.meta.name), vault::to_string(b.engine->last_error->error_class),
                            vault::to_string(b.engine->last_error->operation));
    return out;
}

}  // namespace credgate::daemon
