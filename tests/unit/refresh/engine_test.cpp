// SPDX-License-Identifier: Apache-2.0
// The refresh engine's schedule, backoff, rotation and shutdown, driven by a hand-moved clock over
// scripted Vault operations.
#include "common/log.hpp"
#include "common/time_text.hpp"
#include "refresh/engine.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <random>
#include <set>

using namespace credgate;
using namespace credgate::refresh;
using namespace std::chrono_literals;

namespace {

vault::VaultError vault_error(vault::ErrorClass c, int status, bool retryable, std::string message = {}) {
    vault::VaultError e;
    e.error_class = c;
    e.http_status = status;
    e.retryable = retryable;
    e.vault_message = message;
    e.explanation = "scripted " + std::string(vault::to_string(c));
    return e;
}

vault::SecretResult openai_secret(std::chrono::seconds lease, bool renewable = false, std::string key = "sk-1") {
    vault::SecretResult s;
    s.data_json = fmt::format(R"({{"api_key":"{}"}})", key);
    s.string_fields = {{"api_key", key}};
    s.lease_id = "openai/creds/my-role/" + key;
    s.lease_duration = lease;
    s.renewable = renewable;
    return s;
}

// Scripted Vault: each operation answers from its function, synchronously or (async = true) when
// the test calls complete_next().
class FakeOps final : public BindingOps {
public:
    explicit FakeOps(ManualClock& clock) : clock_(clock) {}

    std::function<vault::VaultResult<vault::LoginResult>()> on_login = [this] {
        vault::LoginResult r;
        r.token = vault::Token(fmt::format("hvs.t{}", ++token_counter));
        r.accessor = fmt::format("acc-{}", token_counter);
        r.lease_duration = token_ttl;
        r.renewable = true;
        r.num_uses = num_uses;
        return r;
    };
    std::function<vault::VaultResult<vault::SecretResult>(const vault::Token&)> on_read =
        [](const vault::Token&) { return openai_secret(3600s); };
    std::function<vault::VaultResult<vault::LoginResult>(const vault::Token&)> on_renew_self =
        [this](const vault::Token& t) {
            vault::LoginResult r;
            r.token = t;
            r.lease_duration = token_ttl;
            r.renewable = true;
            return r;
        };
    std::function<vault::VaultResult<vault::LeaseRenewal>(const std::string&)> on_renew_lease =
        [](const std::string& id) {
            vault::LeaseRenewal r;
            r.lease_id = id;
            r.lease_duration = 3600s;
            r.renewable = true;
            return r;
        };
    std::function<vault::VaultResult<vault::Empty>(const vault::Token&)> on_revoke = [](const vault::Token&) {
        return vault::VaultResult<vault::Empty>(vault::Empty{});
    };
    std::function<Result<void>(const vault::SecretResult&)> on_publish = [](const vault::SecretResult&) {
        return Result<void>{};
    };

    Result<std::string> mint_jwt() override { return std::string("eyJ.jwt.sig"); }

    void login(const std::string&, Callback<vault::LoginResult> done) override {
        events.push_back("login");
        times.push_back(clock_.now());
        ++logins;
        deliver([this, done] { done(on_login()); });
    }
    void read(const vault::Token& token, bool fresh, Callback<vault::SecretResult> done) override {
        events.push_back(fmt::format("read {}{}", token.reveal(), fresh ? " fresh" : ""));
        ++reads;
        deliver([this, token, done] { done(on_read(token)); });
    }
    void renew_self(const vault::Token& token, Callback<vault::LoginResult> done) override {
        events.push_back("renew-self " + token.reveal());
        ++token_renewals;
        deliver([this, token, done] { done(on_renew_self(token)); });
    }
    void renew_lease(const vault::Token&, const std::string& lease_id, Callback<vault::LeaseRenewal> done) override {
        events.push_back("renew-lease " + lease_id);
        ++lease_renewals;
        deliver([this, lease_id, done] { done(on_renew_lease(lease_id)); });
    }
    void revoke_self(const vault::Token& token, Callback<vault::Empty> done) override {
        events.push_back("revoke " + token.reveal());
        revoked.push_back(token.reveal());
        revoke_times.push_back(clock_.now());
        deliver([this, token, done] { done(on_revoke(token)); });
    }
    Result<void> publish(const vault::SecretResult& secret) override {
        auto r = on_publish(secret);
        if (r) {
            events.push_back("publish " + secret.lease_id);
            published = secret.data_json;
            ++publishes;
        }
        return r;
    }
    void unpublish() override {
        events.push_back("unpublish");
        published.reset();
        ++unpublishes;
    }

    void complete_next() {
        REQUIRE_FALSE(queue.empty());
        auto f = std::move(queue.front());
        queue.pop_front();
        f();
    }
    void complete_all() {
        while (!queue.empty()) complete_next();
    }
    size_t revocations_of(const std::string& token) const {
        return static_cast<size_t>(std::count(revoked.begin(), revoked.end(), token));
    }
    size_t index_of(const std::string& event) const {
        for (size_t i = 0; i < events.size(); ++i)
            if (events[i] == event) return i;
        return events.size();
    }

    bool async = false;
    std::chrono::seconds token_ttl{24h};
    int64_t num_uses = 0;
    int token_counter = 0;
    int logins = 0, reads = 0, token_renewals = 0, lease_renewals = 0, publishes = 0, unpublishes = 0;
    std::vector<std::string> events;
    std::vector<TimePoint> times;  // of logins
    std::vector<std::string> revoked;  // every revoke-self call, answered or not, failed or not
    std::vector<TimePoint> revoke_times;
    std::optional<std::string> published;
    std::deque<std::function<void()>> queue;

private:
    void deliver(std::function<void()> f) {
        if (async)
            queue.push_back(std::move(f));
        else
            f();
    }
    ManualClock& clock_;
};

EngineOptions options(double random_value = 0.5) {
    EngineOptions o;
    o.random = [random_value] { return random_value; };
    return o;
}

}  // namespace

TEST_CASE("a non-renewable lease is re-fetched inside the 80-90 % window and at least minLead before expiry") {
    for (double r : {0.0, 0.25, 0.5, 0.999}) {
        CAPTURE(r);
        ManualClock clock;
        FakeOps ops(clock);
        Engine engine("b", clock, ops, options(r));
        const TimePoint t0 = clock.now();
        engine.start();
        REQUIRE(ops.published);
        auto st = engine.status();
        CHECK(st.state == State::ok);
        REQUIRE(st.next_attempt);
        REQUIRE(st.secret_expiry);
        CHECK(*st.secret_expiry == t0 + 3600s);
        CHECK(*st.next_attempt >= t0 + 2880s);
        CHECK(*st.next_attempt <= t0 + 3240s);
        CHECK(*st.next_attempt <= *st.secret_expiry - 30s);
        // Nothing happens before the scheduled time; the new login happens at it.
        clock.advance(*st.next_attempt - clock.now() - 1ms);
        CHECK(ops.logins == 1);
        clock.advance(1ms);
        CHECK(ops.logins == 2);
        CHECK(ops.publishes == 2);
    }
}

TEST_CASE("a real random source keeps every refresh within the window") {
    std::mt19937_64 gen(42);
    EngineOptions o;
    o.random = [&gen] { return std::uniform_real_distribution<double>(0.0, 1.0)(gen); };
    ManualClock clock;
    FakeOps ops(clock);
    Engine engine("b", clock, ops, o);
    engine.start();
    for (int i = 0; i < 50; ++i) {
        const TimePoint obtained = clock.now();
        auto at = *engine.status().next_attempt;
        CHECK(at >= obtained + 2880s);
        CHECK(at <= obtained + 3240s);
        clock.advance(at - clock.now());
    }
    CHECK(ops.logins == 51);
}

TEST_CASE("minLead wins over the fraction when the lease is short") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_read = [](const vault::Token&) { return openai_secret(120s); };
    auto o = options(0.999);
    o.tuning.min_lead = 60s;
    Engine engine("b", clock, ops, o);
    const TimePoint t0 = clock.now();
    engine.start();
    // 90 % of 120 s would be 108 s; minLead caps it at 60 s.
    CHECK(*engine.status().next_attempt == t0 + 60s);
}

TEST_CASE("a short lease's refresh window keeps its width and ends minLead before expiry") {
    for (auto [r, want] : {std::pair<double, Duration>{0.0, 22s}, {0.5, 23500ms}, {1.0, 25s}}) {
        CAPTURE(r);
        ManualClock clock;
        FakeOps ops(clock);
        ops.on_read = [](const vault::Token&) { return openai_secret(30s); };
        auto o = options(r);
        o.tuning.min_lead = 5s;
        Engine engine("b", clock, ops, o);
        const TimePoint t0 = clock.now();
        engine.start();
        // 80-90 % of 30 s is 24-27 s; minLead ends the window at 25 s, and it keeps its 3 s width.
        CHECK(*engine.status().next_attempt == t0 + want);
    }
}

// The spread (latest minus earliest) of the next attempts of `n` engines started at the same instant
// with one seeded random source, after every engine has run `cycles` cycles.
Duration spread_after(int n, int cycles, const std::function<vault::SecretResult()>& secret,
                      std::chrono::seconds static_interval) {
    std::mt19937_64 gen(7);
    ManualClock clock;
    std::vector<std::unique_ptr<FakeOps>> ops;
    std::vector<std::unique_ptr<Engine>> engines;
    for (int i = 0; i < n; ++i) {
        ops.push_back(std::make_unique<FakeOps>(clock));
        ops.back()->on_read = [secret](const vault::Token&) { return vault::VaultResult<vault::SecretResult>(secret()); };
        EngineOptions o;
        o.random = [&gen] { return std::uniform_real_distribution<double>(0.0, 1.0)(gen); };
        o.tuning.min_lead = 5s;
        o.tuning.static_interval = static_interval;
        engines.push_back(std::make_unique<Engine>(fmt::format("b{}", i), clock, *ops.back(), o));
        engines.back()->start();
    }
    auto done = [&] {
        return std::all_of(ops.begin(), ops.end(), [&](const auto& x) { return x->reads > cycles; });
    };
    for (int step = 0; step < 100000 && !done(); ++step) clock.advance(100ms);
    REQUIRE(done());
    TimePoint lo = TimePoint::max(), hi = TimePoint::min();
    for (const auto& e : engines) {
        const TimePoint at = *e->status().next_attempt;
        lo = std::min(lo, at);
        hi = std::max(hi, at);
    }
    return hi - lo;
}

TEST_CASE("bindings started together drift apart: short leases and KV re-reads") {
    // Each cycle adds an independent offset within a 3 s window (30 s leases, minLead 5 s): after five,
    // fifty bindings spread over several seconds, not over the 1 s a window collapsed onto minLead gives.
    const Duration leases = spread_after(50, 5, [] { return openai_secret(30s); }, 300s);
    CAPTURE(leases.count());
    CHECK(leases > 5s);
    // KV re-reads every 60 s: each within the interval's last 6 s, so five re-reads spread them apart.
    const Duration kv = spread_after(50, 5, [] {
        vault::SecretResult s;
        s.data_json = R"({"foo":"bar"})";
        s.string_fields = {{"foo", "bar"}};
        s.is_kv2 = true;
        return s;
    }, 60s);
    CAPTURE(kv.count());
    CHECK(kv > 10s);
}

TEST_CASE("failures back off exponentially with jitter up to 5 minutes") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_login = [] {
        return vault::VaultResult<vault::LoginResult>(
            std::unexpected(vault_error(vault::ErrorClass::unavailable, 503, true, "Vault is sealed")));
    };
    Engine engine("b", clock, ops, options(0.5));
    engine.start();
    clock.advance(2h);
    REQUIRE(ops.times.size() > 10);
    std::vector<Duration> gaps;
    for (size_t i = 1; i < ops.times.size(); ++i) gaps.push_back(ops.times[i] - ops.times[i - 1]);
    CHECK(gaps[0] == 1s);
    for (size_t i = 1; i < gaps.size(); ++i) {
        CAPTURE(i);
        const Duration doubled = std::min<Duration>(gaps[i - 1] * 2, 5min);
        CHECK(gaps[i] >= doubled * 3 / 4);
        CHECK(gaps[i] <= doubled);
        CHECK(gaps[i] <= 5min);
    }
    CHECK(gaps.back() >= 225s);
    auto st = engine.status();
    CHECK(st.state == State::retrying);
    CHECK(st.attempts == ops.times.size());
    REQUIRE(st.last_error);
    CHECK(st.last_error->vault_message == "Vault is sealed");
    CHECK_FALSE(ops.published);
}

TEST_CASE("Retry-After from a 429 is honoured over a shorter backoff") {
    ManualClock clock;
    FakeOps ops(clock);
    int calls = 0;
    ops.on_login = [&calls, &ops] {
        if (++calls == 1) {
            auto e = vault_error(vault::ErrorClass::rate_limited, 429, true);
            e.retry_after = Duration{120s};
            return vault::VaultResult<vault::LoginResult>(std::unexpected(e));
        }
        vault::LoginResult r;
        r.token = vault::Token("hvs.ok");
        r.lease_duration = ops.token_ttl;
        return vault::VaultResult<vault::LoginResult>(r);
    };
    Engine engine("b", clock, ops, options());
    const TimePoint t0 = clock.now();
    engine.start();
    CHECK(*engine.status().next_attempt == t0 + 120s);
    clock.advance(119s);
    CHECK(ops.logins == 1);
    clock.advance(1s);
    CHECK(ops.logins == 2);
    CHECK(engine.status().state == State::ok);
}

TEST_CASE("a configuration error is not retried in a tight loop") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_login = [] {
        return vault::VaultResult<vault::LoginResult>(std::unexpected(
            vault_error(vault::ErrorClass::auth_config, 400, false, "role with oidc role_type is not allowed")));
    };
    Engine engine("b", clock, ops, options());
    engine.start();
    clock.advance(1h);
    // One attempt at start, then one every 5 minutes.
    CHECK(ops.logins == 13);
    auto st = engine.status();
    CHECK(st.state == State::failed);
    CHECK(st.message.find("waiting for the policy or Vault to change") != std::string::npos);
    REQUIRE(st.last_error);
    CHECK(st.last_error->vault_message == "role with oidc role_type is not allowed");
    CHECK(st.failures == 13);
}

TEST_CASE("refresh_now retries at once after a configuration fix") {
    ManualClock clock;
    FakeOps ops(clock);
    bool broken = true;
    auto ok_login = ops.on_login;
    ops.on_login = [&] {
        if (broken)
            return vault::VaultResult<vault::LoginResult>(
                std::unexpected(vault_error(vault::ErrorClass::auth_config, 400, false)));
        return ok_login();
    };
    Engine engine("b", clock, ops, options());
    engine.start();
    CHECK(engine.status().state == State::failed);
    broken = false;
    engine.refresh_now();
    CHECK(engine.status().state == State::ok);
    CHECK(ops.logins == 2);
}

TEST_CASE("the old token is revoked only after the new publish and the grace period") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.async = true;
    auto o = options();
    o.tuning.revoke_grace = 30s;
    Engine engine("b", clock, ops, o);
    engine.start();
    ops.complete_all();
    REQUIRE(ops.published);
    CHECK(engine.status().tokens_held == 1);

    clock.advance(*engine.status().next_attempt - clock.now());
    REQUIRE(ops.logins == 2);
    CHECK(engine.status().state == State::refreshing);
    ops.complete_next();  // login answers
    clock.advance(10s);   // the read is slow
    CHECK(ops.revoked.empty());
    ops.complete_next();  // read answers, publish happens
    CHECK(ops.publishes == 2);
    CHECK(engine.status().tokens_held == 2);
    clock.advance(29s);
    CHECK(ops.revoked.empty());
    clock.advance(1s);
    REQUIRE(ops.revoked.size() == 1);
    CHECK(ops.revoked[0] == "hvs.t1");
    CHECK(ops.index_of("publish openai/creds/my-role/sk-1") < ops.index_of("revoke hvs.t1"));
    ops.complete_all();
    CHECK(engine.status().tokens_held == 1);
}

TEST_CASE("the last good secret stays until its lease expires, then it is removed and status says why") {
    ManualClock clock;
    FakeOps ops(clock);
    Engine engine("b", clock, ops, options());
    const TimePoint t0 = clock.now();
    engine.start();
    REQUIRE(ops.published);
    ops.on_login = [] {
        return vault::VaultResult<vault::LoginResult>(
            std::unexpected(vault_error(vault::ErrorClass::unavailable, 503, true, "Vault is sealed")));
    };
    clock.advance(3599s);
    CHECK(ops.published);
    CHECK(ops.unpublishes == 0);
    auto st = engine.status();
    CHECK(st.state == State::retrying);
    CHECK(st.message.find("stays delivered until") != std::string::npos);
    clock.advance(1s);
    CHECK_FALSE(ops.published);
    CHECK(ops.unpublishes == 1);
    st = engine.status();
    CHECK(st.state == State::expired);
    CHECK(st.message.find("was removed when it expired") != std::string::npos);
    CHECK(st.message.find("scripted unavailable") != std::string::npos);
    CHECK(st.message.find("stays") == std::string::npos);
    CHECK_FALSE(st.secret_expiry);
    REQUIRE(st.next_attempt);
    // Another failed attempt while the secret is gone still says it was removed, not that it stays.
    clock.advance(*st.next_attempt - clock.now());
    st = engine.status();
    CHECK(st.state == State::expired);
    CHECK(st.message.find("was removed when it expired") != std::string::npos);
    CHECK(st.message.find("stays") == std::string::npos);
    REQUIRE(st.next_attempt);
    // Vault comes back: the next attempt delivers again.
    ops.on_login = FakeOps(clock).on_login;
    ops.on_login = [&ops] {
        vault::LoginResult r;
        r.token = vault::Token("hvs.back");
        r.lease_duration = ops.token_ttl;
        return vault::VaultResult<vault::LoginResult>(r);
    };
    clock.advance(*st.next_attempt - clock.now());
    CHECK(ops.published);
    CHECK(engine.status().state == State::ok);
    CHECK(clock.now() > t0 + 3600s);
}

TEST_CASE("a renewable lease is renewed, then re-fetched when renewals stop extending it") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_read = [](const vault::Token&) { return openai_secret(3600s, true); };
    int renewals = 0;
    ops.on_renew_lease = [&renewals](const std::string& id) {
        vault::LeaseRenewal r;
        r.lease_id = id;
        r.lease_duration = ++renewals < 3 ? 3600s : 600s;  // the third hits the max TTL
        r.renewable = true;
        return r;
    };
    Engine engine("b", clock, ops, options());
    engine.start();
    clock.advance(*engine.status().next_attempt - clock.now());
    CHECK(ops.lease_renewals == 1);
    CHECK(ops.logins == 1);
    clock.advance(*engine.status().next_attempt - clock.now());
    CHECK(ops.lease_renewals == 2);
    clock.advance(*engine.status().next_attempt - clock.now());
    CHECK(ops.lease_renewals == 3);
    CHECK(ops.logins == 1);
    // The short grant means a new secret is fetched before it runs out, not another renewal.
    const TimePoint renewed = clock.now();
    clock.advance(*engine.status().next_attempt - clock.now());
    CHECK(ops.logins == 2);
    CHECK(ops.lease_renewals == 3);
    CHECK(clock.now() <= renewed + 600s - 30s);
}

TEST_CASE("a token shorter than its lease is renewed, unless that would spend its last use") {
    SUBCASE("unlimited uses: renew-self before the token expires") {
        ManualClock clock;
        FakeOps ops(clock);
        ops.token_ttl = 600s;
        Engine engine("b", clock, ops, options());
        const TimePoint t0 = clock.now();
        engine.start();
        CHECK(*engine.status().secret_expiry == t0 + 600s);  // the lease dies with the token
        clock.advance(*engine.status().next_attempt - clock.now());
        CHECK(ops.token_renewals == 1);
        CHECK(ops.logins == 1);
        CHECK(clock.now() <= t0 + 570s);
        CHECK(*engine.status().secret_expiry > t0 + 600s);
    }
    SUBCASE("token_num_uses=2: no renewal, rotate before the token expires") {
        ManualClock clock;
        FakeOps ops(clock);
        ops.token_ttl = 600s;
        ops.num_uses = 2;
        Engine engine("b", clock, ops, options());
        const TimePoint t0 = clock.now();
        engine.start();
        CHECK(engine.status().message.find("set token_ttl on the Vault role to at least the lease duration") !=
              std::string::npos);
        clock.advance(*engine.status().next_attempt - clock.now());
        CHECK(ops.token_renewals == 0);
        CHECK(ops.logins == 2);
        CHECK(clock.now() <= t0 + 570s);
        clock.advance(31s);
        // The old token still had its one use left for revoke-self.
        CHECK(ops.revoked == std::vector<std::string>{"hvs.t1"});
    }
}

TEST_CASE("an unleased KV secret is re-read in the interval's last tenth with the same token") {
    ManualClock clock;
    FakeOps ops(clock);
    std::string value = "v1";
    ops.on_read = [&value](const vault::Token&) {
        vault::SecretResult s;
        s.data_json = fmt::format(R"({{"foo":"{}"}})", value);
        s.string_fields = {{"foo", value}};
        s.is_kv2 = true;
        return vault::VaultResult<vault::SecretResult>(s);
    };
    auto o = options();  // random 0.5: halfway through the last tenth, 285 s
    o.tuning.static_interval = 300s;
    Engine engine("b", clock, ops, o);
    engine.start();
    CHECK_FALSE(engine.status().secret_expiry);
    clock.advance(284s);
    CHECK(ops.reads == 1);
    clock.advance(1s);
    CHECK(ops.reads == 2);
    CHECK(ops.events.back() == "read hvs.t1");
    CHECK(ops.publishes == 1);  // unchanged: not re-published
    value = "v2";
    clock.advance(285s);
    CHECK(ops.reads == 3);
    CHECK(ops.publishes == 2);
    CHECK(*ops.published == R"({"foo":"v2"})");
    CHECK(ops.logins == 1);
}

TEST_CASE("a re-read refused for the token logs in again at once") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_read = [](const vault::Token& t) -> vault::VaultResult<vault::SecretResult> {
        if (t.reveal() == "hvs.t1" ) {
            static int n = 0;
            if (++n > 1) return std::unexpected(vault_error(vault::ErrorClass::permission, 403, true));
        }
        vault::SecretResult s;
        s.data_json = R"({"foo":"bar"})";
        return s;
    };
    Engine engine("b", clock, ops, options());
    engine.start();
    clock.advance(300s);
    CHECK(ops.logins == 2);
    CHECK(engine.status().state == State::ok);
    CHECK(engine.status().attempts == 0);
}

TEST_CASE("a denied read with a fresh token fails as configuration and revokes that token") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_read = [](const vault::Token&) -> vault::VaultResult<vault::SecretResult> {
        return std::unexpected(vault_error(vault::ErrorClass::permission, 403, false, "permission denied"));
    };
    Engine engine("b", clock, ops, options());
    engine.start();
    CHECK(engine.status().state == State::failed);
    CHECK(ops.revoked == std::vector<std::string>{"hvs.t1"});
    CHECK(engine.status().tokens_held == 0);
}

TEST_CASE("a token used up by the read is not revoked again") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.num_uses = 1;
    ops.on_read = [](const vault::Token&) -> vault::VaultResult<vault::SecretResult> {
        return std::unexpected(vault_error(vault::ErrorClass::auth_config, 400, false,
                                           "Secret cannot be returned; token had one use left, so leased "
                                           "credentials were immediately revoked."));
    };
    Engine engine("b", clock, ops, options());
    engine.start();
    CHECK(ops.revoked.empty());
    CHECK(engine.status().state == State::failed);
}

TEST_CASE("a failing delivery keeps the old secret and revokes the new token") {
    ManualClock clock;
    FakeOps ops(clock);
    Engine engine("b", clock, ops, options());
    engine.start();
    ops.on_publish = [](const vault::SecretResult&) { return Result<void>(fail(ErrorKind::internal, "disk full")); };
    clock.advance(*engine.status().next_attempt - clock.now());
    CHECK(ops.revoked == std::vector<std::string>{"hvs.t2"});
    auto st = engine.status();
    CHECK(st.state == State::retrying);
    CHECK(st.lease_id == "openai/creds/my-role/sk-1");
    REQUIRE(st.last_error);
    CHECK(st.last_error->error_class == vault::ErrorClass::local);
}

TEST_CASE("stop revokes every token held, removes the secret and reports when done") {
    ManualClock clock;
    FakeOps ops(clock);
    auto o = options();
    o.tuning.revoke_grace = 60s;
    Engine engine("b", clock, ops, o);
    engine.start();
    clock.advance(*engine.status().next_attempt - clock.now());  // rotation: t1 now waits for its grace
    REQUIRE(engine.status().tokens_held == 2);
    ops.async = true;
    bool done = false;
    engine.stop(true, [&done] { done = true; });
    CHECK_FALSE(done);
    CHECK(ops.unpublishes == 1);
    std::vector<std::string> revoked = ops.revoked;
    std::sort(revoked.begin(), revoked.end());
    CHECK(revoked == std::vector<std::string>{"hvs.t1", "hvs.t2"});
    ops.complete_all();
    CHECK(done);
    CHECK(engine.status().state == State::stopped);
    CHECK(engine.status().tokens_held == 0);
    CHECK(clock.pending() == 0);
    clock.advance(24h);
    CHECK(ops.logins == 2);
}

TEST_CASE("stop without revoke leaves tokens and the file alone") {
    ManualClock clock;
    FakeOps ops(clock);
    Engine engine("b", clock, ops, options());
    engine.start();
    bool done = false;
    engine.stop(false, [&done] { done = true; });
    CHECK(done);
    CHECK(ops.revoked.empty());
    CHECK(ops.unpublishes == 0);
    CHECK(clock.pending() == 0);
}

TEST_CASE("a login answered after stop has its token revoked") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.async = true;
    Engine engine("b", clock, ops, options());
    engine.start();
    bool done = false;
    engine.stop(true, [&done] { done = true; });
    CHECK_FALSE(done);
    ops.complete_next();  // the login answers: its token is revoked
    CHECK(ops.revoked == std::vector<std::string>{"hvs.t1"});
    CHECK_FALSE(done);
    ops.complete_next();  // the revocation answers
    CHECK(done);
    CHECK(ops.reads == 0);
    CHECK_FALSE(ops.published);
}

TEST_CASE("stop during a read revokes the token that read and waits for it") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.async = true;
    Engine engine("b", clock, ops, options());
    engine.start();
    ops.complete_next();  // login
    REQUIRE(ops.reads == 1);
    bool done = false;
    engine.stop(true, [&done] { done = true; });
    CHECK_FALSE(done);
    ops.complete_next();  // the read answers after stop: nothing is published
    CHECK_FALSE(ops.published);
    CHECK(ops.revoked == std::vector<std::string>{"hvs.t1"});
    ops.complete_all();
    CHECK(done);
}

TEST_CASE("status after the first delivery names the lease and counts the requests and the success") {
    ManualClock clock;
    FakeOps ops(clock);
    Engine engine("b", clock, ops, options());
    engine.start();
    auto st = engine.status();
    CHECK(st.message.find("hvs.") == std::string::npos);
    CHECK(st.lease_id == "openai/creds/my-role/sk-1");
    CHECK(st.requests == 2);
    CHECK(st.last_success == clock.now());
}

// ---- revocation that is never given up -----------------------------------------------------

namespace {

vault::VaultResult<vault::Empty> sealed() {
    return std::unexpected(vault_error(vault::ErrorClass::unavailable, 503, true, "Vault is sealed"));
}

// Starts the engine and moves the clock onto the first rotation: hvs.t1 is then superseded by
// hvs.t2 and waits for its grace period.
void rotate_once(ManualClock& clock, FakeOps& ops, Engine& engine) {
    engine.start();
    REQUIRE(ops.published);
    clock.advance(*engine.status().next_attempt - clock.now());
    REQUIRE(ops.logins == 2);
    REQUIRE(ops.publishes == 2);
}

}  // namespace

TEST_CASE("a revocation refused while Vault is sealed is retried with backoff until it succeeds") {
    ManualClock clock;
    FakeOps ops(clock);
    int refusals = 3;
    ops.on_revoke = [&refusals](const vault::Token&) {
        return refusals-- > 0 ? sealed() : vault::VaultResult<vault::Empty>(vault::Empty{});
    };
    auto o = options(0.0);  // no jitter: the backoff is exactly 1 s, 2 s, 4 s
    o.tuning.revoke_grace = 30s;
    Engine engine("b", clock, ops, o);
    log::Capture logs;
    rotate_once(clock, ops, engine);
    clock.advance(30s);
    CHECK(ops.revocations_of("hvs.t1") == 1);
    auto st = engine.status();
    CHECK(st.revocations_pending == 1);
    CHECK(st.tokens_held == 2);
    CHECK(st.revocation_failures == 1);
    REQUIRE(st.next_revocation);
    CHECK(*st.next_revocation == clock.now() + 1s);
    size_t expected = 1;
    for (Duration gap : {Duration{1s}, Duration{2s}, Duration{4s}}) {
        CAPTURE(gap.count());
        clock.advance(gap - 1ms);
        CHECK(ops.revocations_of("hvs.t1") == expected);
        clock.advance(1ms);
        CHECK(ops.revocations_of("hvs.t1") == ++expected);
    }
    st = engine.status();
    CHECK(st.revocations_pending == 0);
    CHECK(st.tokens_held == 1);
    CHECK(st.revocation_failures == 3);
    CHECK_FALSE(st.next_revocation);
    // Nothing more is tried for it.
    clock.advance(10min);
    CHECK(ops.revocations_of("hvs.t1") == 4);
    // One line for the first failure, one for the success; the token itself never.
    CHECK(logs.count("Failed to revoke the login token (accessor 'acc-1', lease 'openai/creds/my-role/sk-1')") == 1);
    CHECK(logs.count("revoked the login token (accessor 'acc-1', lease 'openai/creds/my-role/sk-1') after 3 failed "
                     "attempt(s)") == 1);
    CHECK(logs.text().find("hvs.t") == std::string::npos);
}

TEST_CASE("a token whose revocation keeps failing is dropped when it expires, and that is logged once") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.token_ttl = 2h;
    ops.on_revoke = [](const vault::Token&) { return sealed(); };
    auto o = options(0.5);
    o.tuning.revoke_grace = 30s;
    Engine engine("b", clock, ops, o);
    log::Capture logs;
    const TimePoint t0 = clock.now();
    const TimePoint t1_expiry = t0 + 2h;
    rotate_once(clock, ops, engine);
    clock.advance(30s);
    REQUIRE(ops.revocations_of("hvs.t1") == 1);
    // Retries go on, the wait growing to at most 5 minutes, until the token's own expiry.
    clock.advance(t1_expiry - clock.now() - 1ms);
    const size_t attempts = ops.revocations_of("hvs.t1");
    CHECK(attempts > 5);
    CHECK(attempts < 40);
    for (size_t i = 0; i < ops.revoked.size(); ++i)
        if (ops.revoked[i] == "hvs.t1") CHECK(ops.revoke_times[i] < t1_expiry);
    auto pending_acc1 = [&engine] {
        const auto left = engine.unrevoked();
        return std::count_if(left.begin(), left.end(),
                             [](const std::string& l) { return l.find("accessor 'acc-1'") != std::string::npos; });
    };
    CHECK(pending_acc1() == 1);
    clock.advance(1ms);
    CHECK(ops.revocations_of("hvs.t1") == attempts);  // nothing is sent for an expired token
    CHECK(pending_acc1() == 0);
    clock.advance(30min);  // (hvs.t2, superseded later, expires only after this)
    CHECK(ops.revocations_of("hvs.t1") == attempts);
    CHECK(logs.count("Failed to revoke the login token (accessor 'acc-1'") == 1);
    CHECK(logs.count("login token (accessor 'acc-1', lease 'openai/creds/my-role/sk-1') expired at " +
                     rfc3339(t1_expiry)) == 1);
    CHECK(logs.count("expired at") == 1);
}

TEST_CASE("stop revokes at once a superseded token whose revocation failed earlier") {
    ManualClock clock;
    FakeOps ops(clock);
    bool vault_sealed = true;
    ops.on_revoke = [&vault_sealed](const vault::Token&) {
        return vault_sealed ? sealed() : vault::VaultResult<vault::Empty>(vault::Empty{});
    };
    auto o = options(0.0);
    o.tuning.revoke_grace = 30s;
    Engine engine("b", clock, ops, o);
    rotate_once(clock, ops, engine);
    clock.advance(30s);
    REQUIRE(ops.revocations_of("hvs.t1") == 1);
    REQUIRE(engine.status().revocations_pending == 1);
    vault_sealed = false;  // unsealed; the next retry is still a second away
    bool done = false;
    engine.stop(true, [&done] { done = true; });
    CHECK(ops.revocations_of("hvs.t1") == 2);
    CHECK(ops.revocations_of("hvs.t2") == 1);
    CHECK(done);
    CHECK(engine.status().revocations_pending == 0);
    CHECK(engine.status().tokens_held == 0);
    CHECK(clock.pending() == 0);
}

TEST_CASE("a revocation failing at stop is retried from the shortest backoff, and stop finishes when it succeeds") {
    ManualClock clock;
    FakeOps ops(clock);
    bool vault_sealed = true;
    ops.on_revoke = [&vault_sealed](const vault::Token&) {
        return vault_sealed ? sealed() : vault::VaultResult<vault::Empty>(vault::Empty{});
    };
    Engine engine("b", clock, ops, options(0.0));
    engine.start();
    bool done = false;
    engine.stop(true, [&done] { done = true; });
    CHECK(ops.revocations_of("hvs.t1") == 1);
    CHECK_FALSE(done);
    CHECK_FALSE(ops.published);  // the file goes at once: its lease is being revoked
    const auto left = engine.unrevoked();
    REQUIRE(left.size() == 1);
    CHECK(left[0].find("accessor 'acc-1'") != std::string::npos);
    CHECK(left[0].find("lease 'openai/creds/my-role/sk-1'") != std::string::npos);
    CHECK(left[0].find("Vault is sealed") != std::string::npos);
    CHECK(left[0].find("hvs.") == std::string::npos);
    CHECK(engine.status().message.find("1 login token(s) not revoked yet") != std::string::npos);
    clock.advance(1s - 1ms);
    CHECK(ops.revocations_of("hvs.t1") == 1);
    clock.advance(1ms);
    CHECK(ops.revocations_of("hvs.t1") == 2);
    CHECK_FALSE(done);
    vault_sealed = false;
    clock.advance(2s);
    CHECK(ops.revocations_of("hvs.t1") == 3);
    CHECK(done);
    CHECK(engine.unrevoked().empty());
    CHECK(clock.pending() == 0);
}

TEST_CASE("a token Vault already refuses (403) is not revoked again") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_revoke = [](const vault::Token&) -> vault::VaultResult<vault::Empty> {
        return std::unexpected(vault_error(vault::ErrorClass::permission, 403, false, "permission denied"));
    };
    auto o = options();
    o.tuning.revoke_grace = 30s;
    Engine engine("b", clock, ops, o);
    rotate_once(clock, ops, engine);
    clock.advance(30s);
    CHECK(ops.revocations_of("hvs.t1") == 1);
    CHECK(engine.status().revocations_pending == 0);
    CHECK(engine.status().revocation_failures == 0);
    clock.advance(10min);
    CHECK(ops.revocations_of("hvs.t1") == 1);
}

TEST_CASE("stop without revoke still revokes superseded tokens but leaves the current one") {
    ManualClock clock;
    FakeOps ops(clock);
    auto o = options();
    o.tuning.revoke_grace = 60s;
    Engine engine("b", clock, ops, o);
    rotate_once(clock, ops, engine);
    bool done = false;
    engine.stop(false, [&done] { done = true; });
    CHECK(ops.revoked == std::vector<std::string>{"hvs.t1"});
    CHECK(done);
    CHECK(ops.unpublishes == 0);
    CHECK(engine.status().message.find("left to expire on its own") != std::string::npos);
}

// ---- status that tells the truth -------------------------------------------------------------

TEST_CASE("an error keeps the time it happened and is marked resolved by the next success") {
    ManualClock clock;
    FakeOps ops(clock);
    bool vault_sealed = true;
    auto ok_login = ops.on_login;
    ops.on_login = [&] {
        if (vault_sealed)
            return vault::VaultResult<vault::LoginResult>(
                std::unexpected(vault_error(vault::ErrorClass::unavailable, 503, true, "Vault is sealed")));
        return ok_login();
    };
    Engine engine("b", clock, ops, options(0.0));
    const TimePoint failed_at = clock.now();
    engine.start();
    auto st = engine.status();
    REQUIRE(st.last_error);
    CHECK(st.last_error->at == failed_at);
    CHECK_FALSE(st.last_error->resolved_at);
    clock.advance(1s - 1ms);
    vault_sealed = false;
    CHECK(engine.status().state == State::retrying);
    clock.advance(1ms);
    st = engine.status();
    CHECK(st.state == State::ok);
    REQUIRE(st.last_error);
    CHECK(st.last_error->at == failed_at);
    REQUIRE(st.last_error->resolved_at);
    CHECK(*st.last_error->resolved_at == failed_at + 1s);
    CHECK(st.message.find("sealed") == std::string::npos);
}

TEST_CASE("every state has its own upper-case name, the one status documents and metrics show") {
    std::set<std::string> names;
    for (State s : kStates) {
        const std::string name = to_string(s);
        CHECK(name != "UNKNOWN");
        CHECK(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
        names.insert(name);
    }
    CHECK(names.size() == std::size(kStates));
    CHECK(std::string(to_string(State::ok)) == "OK");
    CHECK(std::string(to_string(State::retrying)) == "RETRYING");
}

namespace {
// Each login's token reads its own key, so a rotation is visible in the lease id.
vault::VaultResult<vault::SecretResult> key_of_token(const vault::Token& t) {
    return openai_secret(3600s, false, "sk-" + t.reveal());
}
}  // namespace

TEST_CASE("an operator's rotation logs in and delivers at once, and revokes the old token after the grace") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.async = true;
    ops.on_read = key_of_token;
    auto o = options();
    o.tuning.revoke_grace = 30s;
    Engine engine("b", clock, ops, o);
    engine.start();
    ops.complete_all();
    REQUIRE(ops.publishes == 1);
    const TimePoint scheduled = *engine.status().next_attempt;
    clock.advance(10min);

    std::optional<Result<void>> outcome;
    engine.rotate([&outcome](Result<void> r) { outcome = std::move(r); });
    CHECK(ops.logins == 2);  // now, not at the scheduled time
    CHECK(engine.status().state == State::refreshing);
    ops.complete_next();  // login
    CHECK_FALSE(outcome);
    ops.complete_next();  // read, then delivery
    REQUIRE(outcome);
    CHECK(outcome->has_value());
    CHECK(ops.publishes == 2);
    const auto st = engine.status();
    CHECK(st.state == State::ok);
    CHECK(st.lease_id == "openai/creds/my-role/sk-hvs.t2");
    CHECK(*st.secret_expiry == clock.now() + 3600s);
    CHECK(*st.next_attempt == scheduled + 10min);  // the schedule starts over from the new lease
    CHECK(st.tokens_held == 2);

    clock.advance(30s - 1ms);
    CHECK(ops.revoked.empty());
    clock.advance(1ms);
    CHECK(ops.revoked == std::vector<std::string>{"hvs.t1"});
    ops.complete_all();
    CHECK(engine.status().tokens_held == 1);
}

TEST_CASE("a rotation asked for while a request is in flight starts once that request has answered") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.async = true;
    ops.on_read = key_of_token;
    Engine engine("b", clock, ops, options());
    engine.start();
    ops.complete_all();
    clock.advance(*engine.status().next_attempt - clock.now());  // the scheduled rotation starts
    REQUIRE(ops.logins == 2);

    std::optional<Result<void>> outcome;
    engine.rotate([&outcome](Result<void> r) { outcome = std::move(r); });
    CHECK(ops.logins == 2);
    ops.complete_next();  // the scheduled rotation's login
    ops.complete_next();  // and read: delivered, but it began before the request
    CHECK(ops.publishes == 2);
    CHECK_FALSE(outcome);
    CHECK(*engine.status().next_attempt == clock.now());
    clock.advance(0ms);
    CHECK(ops.logins == 3);
    ops.complete_next();
    ops.complete_next();
    REQUIRE(outcome);
    CHECK(outcome->has_value());
    CHECK(engine.status().lease_id == "openai/creds/my-role/sk-hvs.t3");
}

TEST_CASE("a failed rotation answers with Vault's error, keeps the current secret and backs off") {
    ManualClock clock;
    FakeOps ops(clock);
    Engine engine("b", clock, ops, options());
    engine.start();
    REQUIRE(ops.published);
    const auto delivered = ops.published;
    ops.on_login = [] {
        return vault::VaultResult<vault::LoginResult>(
            std::unexpected(vault_error(vault::ErrorClass::unavailable, 503, true, "Vault is sealed")));
    };
    std::optional<Result<void>> outcome;
    engine.rotate([&outcome](Result<void> r) { outcome = std::move(r); });
    REQUIRE(outcome);
    REQUIRE_FALSE(outcome->has_value());
    CHECK(outcome->error().kind == ErrorKind::unavailable);
    CHECK(outcome->error().message.find("HTTP 503") != std::string::npos);
    CHECK(outcome->error().message.find("Vault is sealed") != std::string::npos);
    CHECK(ops.published == delivered);
    const auto st = engine.status();
    CHECK(st.state == State::retrying);
    REQUIRE(st.next_attempt);
    CHECK(*st.next_attempt > clock.now());
}

TEST_CASE("a rotation is refused by a stopped binding, and answered when the binding stops during it") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.async = true;
    Engine engine("b", clock, ops, options());
    engine.start();
    ops.complete_all();
    std::optional<Result<void>> during;
    engine.rotate([&during](Result<void> r) { during = std::move(r); });
    REQUIRE(ops.logins == 2);
    engine.stop(true);
    REQUIRE(during);
    CHECK_FALSE(during->has_value());
    CHECK(during->error().message.find("stopped") != std::string::npos);
    ops.complete_all();

    std::optional<Result<void>> after;
    engine.rotate([&after](Result<void> r) { after = std::move(r); });
    REQUIRE(after);
    CHECK_FALSE(after->has_value());
    CHECK(ops.logins == 2);
}

TEST_CASE("every log line of a binding carries its name and SPIFFE ID for the journal") {
    ManualClock clock;
    FakeOps ops(clock);
    ops.on_read = key_of_token;
    auto o = options();
    o.tuning.revoke_grace = 1s;
    o.log_fields = log::binding_fields("openai", "spiffe://example.org/ai-agent");
    log::Capture capture;
    Engine engine("openai", clock, ops, o);
    engine.start();
    engine.rotate([](Result<void>) {});
    clock.advance(1s);  // the superseded token is revoked
    REQUIRE(ops.revoked.size() == 1);
    REQUIRE(capture.count("delivered a new secret") == 2);
    REQUIRE(capture.count("rotating on request") == 1);
    REQUIRE(capture.count("revoked the login token") == 1);
    for (size_t i = 0; i < capture.lines().size(); ++i) {
        CAPTURE(capture.lines()[i]);
        CHECK(capture.field(i, "CREDGATE_BINDING") == "openai");
        CHECK(capture.field(i, "SPIFFE_ID") == "spiffe://example.org/ai-agent");
    }

    log::Capture plain;
    FakeOps other_ops(clock);
    Engine other("kv", clock, other_ops, options());  // no fields given: its name at least
    other.start();
    REQUIRE(plain.lines().size() == 1);
    CHECK(plain.field(0, "CREDGATE_BINDING") == "kv");
    CHECK(plain.field(0, "SPIFFE_ID").empty());
}

TEST_CASE("on_first_attempt runs once, when the first fetch has ended, whether it delivered or failed") {
    SUBCASE("delivered") {
        ManualClock clock;
        FakeOps ops(clock);
        ops.async = true;
        int calls = 0;
        auto o = options();
        o.on_first_attempt = [&] { ++calls; };
        Engine engine("b", clock, ops, o);
        CHECK(engine.status().message == "waiting to fetch the first secret");
        engine.start();
        CHECK(calls == 0);
        ops.complete_next();  // the login
        CHECK(calls == 0);
        ops.complete_next();  // the read, then the delivery
        CHECK(calls == 1);
        CHECK(engine.status().state == State::ok);
        // Later refreshes do not call it again.
        clock.advance(*engine.status().next_attempt - clock.now());
        ops.complete_all();
        CHECK(ops.publishes == 2);
        CHECK(calls == 1);
    }
    SUBCASE("failed") {
        ManualClock clock;
        FakeOps ops(clock);
        ops.on_read = [](const vault::Token&) {
            return vault::VaultResult<vault::SecretResult>(
                std::unexpected(vault_error(vault::ErrorClass::unavailable, 503, true)));
        };
        int calls = 0;
        auto o = options();
        o.on_first_attempt = [&] { ++calls; };
        Engine engine("b", clock, ops, o);
        engine.start();
        CHECK(calls == 1);
        CHECK(engine.status().state == State::retrying);
        clock.advance(10s);
        CHECK(ops.reads >= 2);
        CHECK(calls == 1);
    }
    SUBCASE("stopped before it started") {
        ManualClock clock;
        FakeOps ops(clock);
        int calls = 0;
        auto o = options();
        o.on_first_attempt = [&] { ++calls; };
        Engine engine("b", clock, ops, o);
        engine.stop(true);
        CHECK(calls == 1);
        engine.start();
        CHECK(ops.logins == 0);
        CHECK(calls == 1);
    }
}
