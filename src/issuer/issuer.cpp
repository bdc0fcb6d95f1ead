// SPDX-License-Identifier: Apache-2.0
// The Issuer: JWT-SVID minting, scheduled key rotation with retirement after the last token's
// expiry, and the JWKS / discovery documents.
#include "issuer/issuer.hpp"

#include "common/log.hpp"
#include "common/url.hpp"
#include "issuer/base64url.hpp"
#include "issuer/key_file.hpp"
#include "issuer/signing_key.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>

namespace credgate::issuer {

const char* algorithm_name(policy::SigningAlgorithm alg) noexcept {
    switch (alg) {
        case policy::SigningAlgorithm::es256: return "ES256";
        case policy::SigningAlgorithm::rs256: return "RS256";
        case policy::SigningAlgorithm::eddsa: return "EdDSA";
    }
    return "?";
}

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
constexpr std::array<std::string_view, 7> kRegisteredClaims = {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"};
constexpr size_t kJtiBytes = 16;
constexpr size_t kMaxClaimValueBytes = 1024;

void put(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void member(Writer& w, std::string_view name, std::string_view value) {
    put(w, name);
    put(w, value);
}
void member(Writer& w, std::string_view name, int64_t value) {
    put(w, name);
    w.Int64(value);
}

bool valid_claim_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

Result<std::string> random_id() {
    std::array<uint8_t, kJtiBytes> bytes{};
    size_t got = 0;
    while (got < bytes.size()) {
        ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(ErrorKind::internal, std::string("getrandom failed: ") + std::strerror(errno));
        got += static_cast<size_t>(n);
    }
    return base64url_encode(std::span<const uint8_t>(bytes));
}

int64_t unix_seconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

struct PublishedKey {
    SigningKey key;
    TimePoint created{};                   // generated, or its key file last written
    std::optional<TimePoint> last_expiry;  // of the newest token it signed
    std::optional<TimePoint> retire_at;    // set once it stops signing
};

class IssuerImpl final : public Issuer {
public:
    IssuerImpl(IssuerOptions options, Clock& clock, std::string base_path)
        : options_(std::move(options)), clock_(clock), base_path_(std::move(base_path)) {}

    Result<void> init() {
        const auto& s = options_.settings;
        if (s.key_file) {
            auto key = load_or_create_key_file(*s.key_file, s.algorithm);
            if (!key) return fail(key.error());
            keys_.push_front(PublishedKey{std::move(key->key), key->written.value_or(clock_.now()), {}, {}});
            log::info("issuer", "Signing with persisted key {} ({}) from '{}'; rotation is off", current_kid(),
                      algorithm(), *s.key_file);
            return {};
        }
        auto key = SigningKey::generate(s.algorithm);
        if (!key) return fail(key.error());
        keys_.push_front(PublishedKey{std::move(*key), clock_.now(), {}, {}});
        log::info("issuer", "Signing with new in-memory key {} ({})", current_kid(), algorithm());
        rotation_timer_ = clock_.make_timer();
        retire_timer_ = clock_.make_timer();
        schedule_rotation();
        return {};
    }

    Result<MintedToken> mint(const MintRequest& request) override {
        if (!request.subject.starts_with("spiffe://"))
            return fail(ErrorKind::invalid_argument, "subject '" + request.subject + "' is not a SPIFFE ID");
        if (request.audience.empty())
            return fail(ErrorKind::invalid_argument, "token for '" + request.subject + "' needs an audience");
        for (const auto& a : request.audience)
            if (a.empty()) return fail(ErrorKind::invalid_argument, "empty audience for '" + request.subject + "'");
        if (request.extra.size() > kMaxExtraClaims)
            return fail(ErrorKind::invalid_argument, "more than " + std::to_string(kMaxExtraClaims) +
                                                         " extra claims for '" + request.subject + "'");
        std::vector<std::pair<std::string, std::string>> extra;
        if (!options_.node.empty()) extra.emplace_back("node", options_.node);
        for (const auto& [name, value] : request.extra) {
            if (!valid_claim_name(name))
                return fail(ErrorKind::invalid_argument, "claim name '" + name + "' is not lowercase [a-z0-9_]");
            if (std::find(kRegisteredClaims.begin(), kRegisteredClaims.end(), name) != kRegisteredClaims.end())
                return fail(ErrorKind::invalid_argument, "claim '" + name + "' is set by the issuer");
            if (value.size() > kMaxClaimValueBytes)
                return fail(ErrorKind::invalid_argument, "claim '" + name + "' is longer than " +
                                                             std::to_string(kMaxClaimValueBytes) + " bytes");
            std::erase_if(extra, [&](const auto& e) { return e.first == name; });
            extra.emplace_back(name, value);
        }
        auto jti = random_id();
        if (!jti) return fail(jti.error());

        auto& current = keys_.front();
        TimePoint now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
        TimePoint exp = now + std::chrono::duration_cast<Duration>(options_.settings.token_ttl);

        rapidjson::StringBuffer hb;
        Writer h(hb);
        h.StartObject();
        member(h, "alg", current.key.jws_alg());
        member(h, "kid", current.key.kid());
        member(h, "typ", "JWT");
        h.EndObject();

        rapidjson::StringBuffer cb;
        Writer c(cb);
        c.StartObject();
        member(c, "iss", options_.settings.url);
        member(c, "sub", request.subject);
        c.Key("aud");
        if (request.audience_as_string && request.audience.size() == 1) {
            put(c, request.audience.front());
        } else {
            c.StartArray();
            for (const auto& a : request.audience) put(c, a);
            c.EndArray();
        }
        member(c, "iat", unix_seconds(now));
        member(c, "nbf", unix_seconds(now));
        member(c, "exp", unix_seconds(exp));
        member(c, "jti", *jti);
        for (const auto& [name, value] : extra) {
            member(c, name, value);
        }
        c.EndObject();

        std::string signing_input = base64url_encode(std::string_view(hb.GetString(), hb.GetSize())) + "." +
                                    base64url_encode(std::string_view(cb.GetString(), cb.GetSize()));
        auto sig = current.key.sign(signing_input);
        if (!sig) return fail(sig.error());
        current.last_expiry = std::max(current.last_expiry.value_or(exp), exp);

        MintedToken token;
        token.jwt = signing_input + "." + base64url_encode(std::span<const uint8_t>(*sig));
        token.kid = current.key.kid();
        token.jti = std::move(*jti);
        token.issued_at = now;
        token.expires_at = exp;
        log::debug("issuer", "Minted token jti {} for '{}' with kid {}, expires at {}", token.jti, request.subject,
                   token.kid, unix_seconds(exp));
        return token;
    }

    std::string jwks_json() const override {
        rapidjson::StringBuffer b;
        Writer w(b);
        w.StartObject();
        w.Key("keys");
        w.StartArray();
        for (const auto& k : keys_) {
            w.StartObject();
            for (const auto& [name, value] : k.key.jwk_members()) {
                member(w, name, value);
            }
            member(w, "kid", k.key.kid());
            member(w, "alg", k.key.jws_alg());
            member(w, "use", "sig");
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return std::string(b.GetString(), b.GetSize());
    }

    std::string discovery_json() const override {
        rapidjson::StringBuffer b;
        Writer w(b);
        w.StartObject();
        member(w, "issuer", options_.settings.url);
        member(w, "jwks_uri", jwks_uri());
        w.Key("id_token_signing_alg_values_supported");
        w.StartArray();
        put(w, algorithm());
        w.EndArray();
        w.Key("response_types_supported");
        w.StartArray();
        put(w, "id_token");
        w.EndArray();
        w.Key("subject_types_supported");
        w.StartArray();
        put(w, "public");
        w.EndArray();
        w.EndObject();
        return std::string(b.GetString(), b.GetSize());
    }

    std::string public_key_pem() const override { return keys_.front().key.public_key_pem(); }
    std::string current_kid() const override { return keys_.front().key.kid(); }
    TimePoint current_key_created() const override { return keys_.front().created; }
    std::vector<std::string> published_kids() const override {
        std::vector<std::string> out;
        for (const auto& k : keys_) out.push_back(k.key.kid());
        return out;
    }
    std::string algorithm() const override { return keys_.front().key.jws_alg(); }
    const std::string& issuer_url() const override { return options_.settings.url; }
    std::string jwks_path() const override { return base_path_ + "/keys"; }
    std::string discovery_path() const override { return base_path_ + "/.well-known/openid-configuration"; }

private:
    std::string jwks_uri() const {
        std::string url = options_.settings.url;
        while (url.ends_with('/')) url.pop_back();
        return url + "/keys";
    }

    void schedule_rotation() {
        rotation_timer_->arm(clock_.now() + std::chrono::duration_cast<Duration>(options_.settings.key_rotation),
                             [this] { rotate(); });
    }

    void rotate() {
        auto key = SigningKey::generate(options_.settings.algorithm);
        if (!key) {
            // Keep signing with the current key; try again at the next period.
            log::error("issuer", "Failed to rotate signing key {}: {}", current_kid(), key.error().message);
            schedule_rotation();
            return;
        }
        TimePoint now = clock_.now();
        auto& old = keys_.front();
        // A key that never signed has nothing to verify; one that did stays until its last token
        // is past expiry plus the verifier's skew allowance.
        old.retire_at = old.last_expiry ? std::max(*old.last_expiry + kVerifierClockSkew, now) : now;
        std::string old_kid = old.key.kid();
        keys_.push_front(PublishedKey{std::move(*key), now, {}, {}});
        log::info("issuer", "Rotated signing key {} -> {}", old_kid, current_kid());
        retire_due();
        schedule_rotation();
    }

    void retire_due() {
        TimePoint now = clock_.now();
        for (auto it = keys_.begin() + 1; it != keys_.end();) {
            if (it->retire_at && *it->retire_at <= now) {
                log::info("issuer", "Dropped signing key {} from the JWKS", it->key.kid());
                it = keys_.erase(it);
            } else {
                ++it;
            }
        }
        std::optional<TimePoint> next;
        for (auto it = keys_.begin() + 1; it != keys_.end(); ++it)
            if (it->retire_at && (!next || *it->retire_at < *next)) next = it->retire_at;
        if (next)
            retire_timer_->arm(*next, [this] { retire_due(); });
        else
            retire_timer_->cancel();
    }

    IssuerOptions options_;
    Clock& clock_;
    std::string base_path_;
    std::deque<PublishedKey> keys_;  // current first
    std::unique_ptr<Timer> rotation_timer_;
    std::unique_ptr<Timer> retire_timer_;
};

}  // namespace

Result<std::unique_ptr<Issuer>> Issuer::create(IssuerOptions options, Clock& clock) {
    const auto& s = options.settings;
    auto url = parse_url(s.url);
    if (!url) return fail(ErrorKind::config, "issuer: url " + url.error().message);
    if (url->has_query()) return fail(ErrorKind::config, "issuer: url '" + s.url + "' must not have a query");
    if (s.token_ttl <= std::chrono::seconds::zero())
        return fail(ErrorKind::config, "token_ttl must be positive");
    if (!s.key_file && s.key_rotation <= std::chrono::seconds::zero())
        return fail(ErrorKind::config, "key_rotation must be positive");
    std::string base_path = url->target;
    while (base_path.ends_with('/')) base_path.pop_back();
    auto issuer = std::make_unique<IssuerImpl>(std::move(options), clock, std::move(base_path));
    if (auto r = issuer->init(); !r) return fail(r.error());
    return std::unique_ptr<Issuer>(std::move(issuer));
}

}  // namespace credgate::issuer
