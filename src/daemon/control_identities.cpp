// SPDX-License-Identifier: Apache-2.0
// GET /v1/identities and GET /v1/explain: running processes matched against the applied bindings'
// identities with identity::IdentityMatcher, which evaluates the rules compile_identity gives the kernel.
#include "daemon/control_identities.hpp"

#include "daemon/control_json.hpp"
#include "identity/caching_resolver.hpp"
#include "identity/host_resolver.hpp"
#include "policy/values.hpp"
#include "protection/protection.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <map>

namespace credgate::daemon {
namespace {

using namespace control_json;

// The bindings that share one identity.
struct IdentityGroup {
    policy::WorkloadIdentity identity;
    std::string spiffe_id;
    std::vector<std::string> bindings;
};

std::map<std::string, IdentityGroup> groups_of(const std::vector<policy::BindingDefinition>& defs) {
    std::map<std::string, IdentityGroup> groups;
    for (const auto& d : defs) {
        auto& g = groups[d.identity.meta.name];
        g.identity = d.identity;
        g.spiffe_id = d.spiffe_id;
        g.bindings.push_back(d.binding.meta.name);
    }
    return groups;
}

// Matchers compiled on this host now, with the sha256 candidates credgated gives the kernel's compiler.
class Matchers {
public:
    explicit Matchers(const std::vector<policy::BindingDefinition>& defs) : resolver_(host_) {
        for (const auto& d : defs) identities_.push_back(d.identity);
        candidates_ = identity::program_paths(identities_);
    }
    const identity::IdentityMatcher& of(const policy::WorkloadIdentity& identity) {
        auto it = matchers_.find(identity.meta.name);
        if (it == matchers_.end())
            it = matchers_.emplace(identity.meta.name, identity::IdentityMatcher::compile(identity, resolver_, candidates_))
                     .first;
        return it->second;
    }

private:
    identity::SystemResolver host_;
    identity::CachingResolver resolver_;
    std::vector<policy::WorkloadIdentity> identities_;
    std::vector<std::string> candidates_;
    std::map<std::string, identity::IdentityMatcher> matchers_;
};

std::string enforcement_of(const App& app) { return protection::to_string(app.protection().mode()); }

void write_process_fields(Writer& w, const identity::ProcessFacts& f) {
    i64(w, "pid", f.pid);
    u64(w, "uid", f.uid);
    if (f.real_uid != f.uid) {
        u64(w, "realUID", f.real_uid);
    }
    u64(w, "gid", f.gid);
    str(w, "exe", f.exe_path);
    if (f.exe) str(w, "exeFile", identity::file_key_text(*f.exe));
    str(w, "exeSource", identity::to_string(f.exe_source));
    str(w, "comm", f.comm);
    str(w, "cgroup", f.cgroup);
    if (!f.unit.empty()) str(w, "unit", f.unit);
}

void write_key(Writer& w, const identity::KeyCheck& k, bool with_result) {
    w.StartObject();
    str(w, "key", policy::to_string(k.key));
    strings(w, "wants", k.wants);
    strings(w, "compiledTo", k.resolved);
    str(w, "has", k.has);
    if (with_result) {
        boolean(w, "matched", k.matched);
    }
    w.EndObject();
}

void write_identity_ref(Writer& w, const std::string& name, const IdentityGroup& g) {
    str(w, "identity", name);
    str(w, "spiffeID", g.spiffe_id);
    strings(w, "bindings", g.bindings);
}

std::string identities_json(const App& app) {
    const auto defs = app.definitions();
    const auto groups = groups_of(defs);
    Matchers matchers(defs);

    std::vector<identity::ProcessFacts> processes;
    for (pid_t pid : identity::running_processes()) {
        auto f = process_facts(app, pid);
        // Kernel threads run no program; a process that exited meanwhile is simply gone.
        if (f && !f->exe_path.empty()) processes.push_back(std::move(*f));
    }

    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    str(w, "enforcement", enforcement_of(app));
    key(w, "identities");
    w.StartArray();
    for (const auto& [name, g] : groups) {
        const auto& m = matchers.of(g.identity);
        w.StartObject();
        str(w, "name", name);
        str(w, "spiffeID", g.spiffe_id);
        strings(w, "bindings", g.bindings);
        if (!m.refused().empty()) str(w, "refused", m.refused());
        if (!m.warnings().empty()) strings(w, "warnings", m.warnings());
        w.EndObject();
    }
    w.EndArray();

    // One entry per process and identity it matches; then, for the identities it does not match,
    // one entry per alternative whose program it runs, with the keys that kept it out.
    rapidjson::StringBuffer mb;
    Writer mw(mb);
    mw.StartArray();
    key(w, "matches");
    w.StartArray();
    for (const auto& f : processes) {
        for (const auto& [name, g] : groups) {
            const auto check = matchers.of(g.identity).check(f);
            if (check.matched) {
                w.StartObject();
                write_process_fields(w, f);
                write_identity_ref(w, name, g);
                u64(w, "alternative", *check.alternative + 1);
                w.EndObject();
                continue;
            }
            for (size_t a = 0; a < check.alternatives.size(); ++a) {
                const auto& alt = check.alternatives[a];
                if (!alt.runs_program) continue;
                mw.StartObject();
                write_process_fields(mw, f);
                write_identity_ref(mw, name, g);
                key(mw, "alternative");
                mw.Uint64(a + 1);
                key(mw, "unmatched");
                mw.StartArray();
                for (const auto& k : alt.keys)
                    if (!k.matched) write_key(mw, k, false);
                mw.EndArray();
                mw.EndObject();
            }
        }
    }
    w.EndArray();
    mw.EndArray();
    key(w, "programMismatches");
    w.RawValue(mb.GetString(), mb.GetSize(), rapidjson::kArrayType);
    w.EndObject();
    return sb.GetString();
}

}  // namespace

void serve_explain(App& app, const control::Explain& command, const http::Responder& respond) {
    const pid_t pid = command.pid;
    const auto& binding = command.binding;

    const auto defs = app.definitions();
    std::vector<const policy::BindingDefinition*> chosen;
    for (const auto& d : defs)
        if (!binding || d.binding.meta.name == *binding) chosen.push_back(&d);
    if (binding && chosen.empty())
        return respond(error_response(404, fmt::format("credgated has no binding named '{}'", *binding)));

    auto facts = process_facts(app, pid);
    if (!facts)
        return respond(error_response(facts.error().kind == ErrorKind::not_found ? 404 : 500, facts.error().message));

    Matchers matchers(defs);
    std::vector<BindingExplanation> out;
    for (const auto* d : chosen) {
        BindingExplanation e{d->binding.meta.name, d->identity.meta.name, d->spiffe_id,
                             matchers.of(d->identity).check(*facts), {}};
        e.verdict = identity::credential_verdict(e.check, *facts, pid == ::getpid());
        out.push_back(std::move(e));
    }
    respond(json_response(200, explain_json(*facts, out, enforcement_of(app))));
}

Result<identity::ProcessFacts> process_facts(const App& app, pid_t pid) {
    auto facts = identity::read_process_facts(pid);
    if (!facts) return facts;
    auto recorded = app.protection().executed_file(pid);
    if (recorded) {
        facts->exe = *recorded;
        facts->exe_source = *recorded ? identity::ExeSource::kernel : identity::ExeSource::none;
    } else if (recorded.error().kind == ErrorKind::not_found) {
        return fail(ErrorKind::not_found, fmt::format("no process with pid {} is running", pid));
    } else if (recorded.error().kind != ErrorKind::unsupported) {
        return fail(recorded.error());
    }
    return facts;
}

std::string explain_json(const identity::ProcessFacts& f, const std::vector<BindingExplanation>& bindings,
                         const std::string& enforcement) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    str(w, "enforcement", enforcement);
    std::vector<std::string> notes;
    if (enforcement != protection::to_string(protection::ProtectionMode::enforced))
        notes.push_back(fmt::format("credgated is not enforcing ({}): no kernel program gates the credential files "
                                    "now; each verdict is what the rules decide once it does",
                                    enforcement));
    if (f.exe_source == identity::ExeSource::proc)
        notes.push_back("the executed file comes from /proc/<pid>/exe, as the kernel's record of the exec is not "
                        "available without enforcement: for a script that is its interpreter, while the kernel "
                        "matches the script");
    if (!notes.empty()) strings(w, "notes", notes);
    key(w, "process");
    w.StartObject();
    write_process_fields(w, f);
    key(w, "cgroupIDs");
    w.StartArray();
    for (auto id : f.cgroup_ids) w.Uint64(id);
    w.EndArray();
    boolean(w, "traced", f.traced);
    w.EndObject();
    bool any = false;
    for (const auto& b : bindings) any = any || b.verdict.allowed;
    boolean(w, "allowed", any);
    key(w, "bindings");
    w.StartArray();
    for (const auto& b : bindings) {
        w.StartObject();
        str(w, "binding", b.binding);
        str(w, "identity", b.identity);
        str(w, "spiffeID", b.spiffe_id);
        boolean(w, "allowed", b.verdict.allowed);
        str(w, "reason", b.verdict.reason);
        if (b.check.alternative) {
            u64(w, "matchedAlternative", *b.check.alternative + 1);
        }
        if (!b.check.refused.empty()) str(w, "refused", b.check.refused);
        key(w, "alternatives");
        w.StartArray();
        for (size_t a = 0; a < b.check.alternatives.size(); ++a) {
            const auto& alt = b.check.alternatives[a];
            w.StartObject();
            u64(w, "alternative", a + 1);
            boolean(w, "matched", alt.matched);
            key(w, "keys");
            w.StartArray();
            for (const auto& k : alt.keys) write_key(w, k, true);
            w.EndArray();
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return sb.GetString();
}

void serve_identities(App& app, const http::Responder& respond) { respond(json_response(200, identities_json(app))); }

}  // namespace credgate::daemon
