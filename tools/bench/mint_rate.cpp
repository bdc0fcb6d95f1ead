// SPDX-License-Identifier: Apache-2.0
// Mint-rate benchmark: JWT-SVIDs minted by the issuer exactly as credgated mints one for a binding,
// then raw signatures with the same key; prints one JSON object (tools/bench/mint-rate runs it).
// usage: credgate-bench-mint [--seconds S | --count N] [--emit-tokens]
#include "issuer/issuer.hpp"
#include "issuer/signing_key.hpp"
#include "runtime/event_loop.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace credgate;

namespace {

// The seed scenario's binding (policies/examples/ai-agent-openai.yaml), with an issuer URL as
// credgate.yaml sets one; every other issuer setting is credgate.yaml's default (ES256, 5 min tokens).
constexpr const char* kIssuerUrl = "https://node1.example:8421";
constexpr const char* kTrustDomain = "example.org";
constexpr const char* kNode = "node1";
constexpr const char* kSpiffeId = "spiffe://example.org/ai-agent";
constexpr const char* kAudience = "vault";
constexpr const char* kBinding = "vault-openai-apikeys-binding";
constexpr size_t kMaxEmittedTokens = 1000;

struct Options {
    double seconds = 3.0;
    long count = 0;  // when set, exactly this many of each operation instead of `seconds`
    bool emit_tokens = false;
};

struct Measure {
    long ops = 0;
    double wall_seconds = 0;
    double cpu_seconds = 0;  // the process's user + system time
};

double cpu_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `op` for opts.count iterations, or until opts.seconds of wall time have passed. `op` returns
// false on failure, which ends the run.
template <typename Op>
bool measure(const Options& opts, Measure& m, Op op) {
    using Steady = std::chrono::steady_clock;
    const auto start = Steady::now();
    const double cpu_start = cpu_now();
    const auto deadline = start + std::chrono::duration<double>(opts.seconds);
    for (;;) {
        if (opts.count > 0 ? m.ops >= opts.count : Steady::now() >= deadline) break;
        if (!op()) return false;
        ++m.ops;
    }
    m.wall_seconds = std::chrono::duration<double>(Steady::now() - start).count();
    m.cpu_seconds = cpu_now() - cpu_start;
    return true;
}

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* name, const Measure& m) {
    w.Key(name);
    w.StartObject();
    w.Key("ops");
    w.Int64(m.ops);
    w.Key("wall_seconds");
    w.Double(m.wall_seconds);
    w.Key("cpu_seconds");
    w.Double(m.cpu_seconds);
    w.Key("per_cpu_second");
    w.Double(m.cpu_seconds > 0 ? static_cast<double>(m.ops) / m.cpu_seconds : 0);
    w.Key("per_wall_second");
    w.Double(m.wall_seconds > 0 ? static_cast<double>(m.ops) / m.wall_seconds : 0);
    w.EndObject();
}

int usage() {
    std::fprintf(stderr, "usage: credgate-bench-mint [--seconds S | --count N] [--emit-tokens]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Options opts;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--seconds" && i + 1 < argc) {
            opts.seconds = std::strtod(argv[++i], nullptr);
            if (!(opts.seconds > 0)) return usage();
        } else if (a == "--count" && i + 1 < argc) {
            opts.count = std::strtol(argv[++i], nullptr, 10);
            if (opts.count <= 0) return usage();
        } else if (a == "--emit-tokens") {
            opts.emit_tokens = true;
        } else {
            return usage();
        }
    }
    if (opts.emit_tokens && (opts.count <= 0 || static_cast<size_t>(opts.count) > kMaxEmittedTokens)) {
        std::fprintf(stderr, "credgate-bench-mint: --emit-tokens needs --count of at most %zu\n", kMaxEmittedTokens);
        return 2;
    }

    // The daemon's own event loop supplies the real-time clock its issuer runs on.
    runtime::EventLoop loop;
    policy::AgentConfig config;
    config.trust_domain = kTrustDomain;
    config.node = kNode;
    config.issuer.url = kIssuerUrl;
    auto issuer = issuer::Issuer::create(issuer::IssuerOptions::from_config(config), loop.clock());
    if (!issuer) {
        std::fprintf(stderr, "credgate-bench-mint: %s\n", issuer.error().message.c_str());
        return 1;
    }

    // As DaemonBindingOps::mint_jwt builds it for a binding.
    issuer::MintRequest request;
    request.subject = kSpiffeId;
    request.audience = {kAudience};
    request.extra = {{"binding", kBinding}};

    std::vector<std::string> tokens;
    std::string last_jwt;
    std::string error;
    Measure mint;
    bool ok = measure(opts, mint, [&] {
        auto t = (*issuer)->mint(request);
        if (!t) {
            error = t.error().message;
            return false;
        }
        if (opts.emit_tokens) tokens.push_back(t->jwt);
        last_jwt = std::move(t->jwt);
        return true;
    });
    if (!ok || last_jwt.empty()) {
        std::fprintf(stderr, "credgate-bench-mint: minting failed: %s\n", error.c_str());
        return 1;
    }

    // Raw signatures: the same algorithm over an input as long as a token's signing input, with a
    // key of its own (the issuer's keys are private to it).
    auto key = issuer::SigningKey::generate(config.issuer.algorithm);
    if (!key) {
        std::fprintf(stderr, "credgate-bench-mint: %s\n", key.error().message.c_str());
        return 1;
    }
    const std::string input(last_jwt.substr(0, last_jwt.rfind('.')).size(), 'x');
    Measure sign;
    ok = measure(opts, sign, [&] {
        auto s = key->sign(input);
        if (!s) error = s.error().message;
        return s.has_value();
    });
    if (!ok) {
        std::fprintf(stderr, "credgate-bench-mint: signing failed: %s\n", error.c_str());
        return 1;
    }

    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("algorithm");
    w.String((*issuer)->algorithm().c_str());
    w.Key("token_bytes");
    w.Uint64(last_jwt.size());
    put(w, "mint", mint);
    put(w, "sign", sign);
    if (opts.emit_tokens) {
        // Throw-away keys and example claims: these tokens are printed for checking, not for use.
        w.Key("issuer");
        w.String(kIssuerUrl);
        w.Key("audience");
        w.String(kAudience);
        w.Key("subject");
        w.String(kSpiffeId);
        w.Key("kid");
        w.String((*issuer)->current_kid().c_str());
        w.Key("public_key_pem");
        w.String((*issuer)->public_key_pem().c_str());
        w.Key("tokens");
        w.StartArray();
        for (const auto& t : tokens) w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
        w.EndArray();
    }
    w.EndObject();
    std::printf("%s\n", b.GetString());
    return 0;
}
