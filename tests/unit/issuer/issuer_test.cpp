// SPDX-License-Identifier: Apache-2.0
// JWT-SVID format and signatures, checked with OpenSSL (not Botan) against the served JWKS;
// rotation on a ManualClock; the persisted key file.
#include "issuer/base64url.hpp"
#include "issuer/issuer.hpp"
#include "support/manual_clock.hpp"

#include <doctest/doctest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <rapidjson/document.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace credgate;
using namespace credgate::issuer;

namespace {

struct Jwt {
    rapidjson::Document header;
    rapidjson::Document claims;
    std::string signing_input;
    std::vector<uint8_t> signature;
};

std::string decode_text(std::string_view part) {
    auto bytes = base64url_decode(part);
    REQUIRE(bytes.has_value());
    return std::string(bytes->begin(), bytes->end());
}

Jwt split(const std::string& jwt) {
    auto d1 = jwt.find('.');
    auto d2 = jwt.find('.', d1 + 1);
    REQUIRE(d1 != std::string::npos);
    REQUIRE(d2 != std::string::npos);
    REQUIRE(jwt.find('.', d2 + 1) == std::string::npos);
    Jwt out;
    out.header.Parse(decode_text(std::string_view(jwt).substr(0, d1)).c_str());
    out.claims.Parse(decode_text(std::string_view(jwt).substr(d1 + 1, d2 - d1 - 1)).c_str());
    REQUIRE(!out.header.HasParseError());
    REQUIRE(!out.claims.HasParseError());
    out.signing_input = jwt.substr(0, d2);
    auto sig = base64url_decode(std::string_view(jwt).substr(d2 + 1));
    REQUIRE(sig.has_value());
    out.signature = *sig;
    return out;
}

std::vector<uint8_t> b64(const rapidjson::Value& v, const char* member) {
    REQUIRE(v.HasMember(member));
    auto bytes = base64url_decode(v[member].GetString());
    REQUIRE(bytes.has_value());
    return *bytes;
}

// Builds an OpenSSL public key from one JWKS entry.
EVP_PKEY* key_from_jwk(const rapidjson::Value& jwk) {
    std::string kty = jwk["kty"].GetString();
    EVP_PKEY* pkey = nullptr;
    if (kty == "OKP") {
        CHECK(std::string(jwk["crv"].GetString()) == "Ed25519");
        auto x = b64(jwk, "x");
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, x.data(), x.size());
    }
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    std::vector<uint8_t> point;
    const char* type = nullptr;
    if (kty == "EC") {
        CHECK(std::string(jwk["crv"].GetString()) == "P-256");
        auto x = b64(jwk, "x");
        auto y = b64(jwk, "y");
        CHECK(x.size() == 32);
        CHECK(y.size() == 32);
        point.push_back(0x04);
        point.insert(point.end(), x.begin(), x.end());
        point.insert(point.end(), y.begin(), y.end());
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
        type = "EC";
    } else {
        REQUIRE(kty == "RSA");
        auto nb = b64(jwk, "n");
        auto eb = b64(jwk, "e");
        n = BN_bin2bn(nb.data(), static_cast<int>(nb.size()), nullptr);
        e = BN_bin2bn(eb.data(), static_cast<int>(eb.size()), nullptr);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        type = "RSA";
    }
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
    REQUIRE(EVP_PKEY_fromdata_init(ctx) == 1);
    REQUIRE(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

// JWS ES256 carries R||S; OpenSSL verifies DER, so convert.
std::vector<uint8_t> raw_to_der(const std::vector<uint8_t>& raw) {
    REQUIRE(raw.size() == 64);
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(raw.data(), 32, nullptr), BN_bin2bn(raw.data() + 32, 32, nullptr));
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(sig, &der);
    REQUIRE(len > 0);
    std::vector<uint8_t> out(der, der + len);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return out;
}

// True when some key in `jwks` with the token's kid verifies its signature.
bool verify_with_jwks(const std::string& jwt, const std::string& jwks) {
    Jwt t = split(jwt);
    rapidjson::Document doc;
    doc.Parse(jwks.c_str());
    REQUIRE(!doc.HasParseError());
    std::string kid = t.header["kid"].GetString();
    std::string alg = t.header["alg"].GetString();
    for (const auto& jwk : doc["keys"].GetArray()) {
        if (kid != jwk["kid"].GetString()) continue;
        CHECK(alg == jwk["alg"].GetString());
        EVP_PKEY* pkey = key_from_jwk(jwk);
        REQUIRE(pkey != nullptr);
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        const EVP_MD* digest = alg == "EdDSA" ? nullptr : EVP_sha256();
        REQUIRE(EVP_DigestVerifyInit(md, nullptr, digest, nullptr, pkey) == 1);
        std::vector<uint8_t> sig = alg == "ES256" ? raw_to_der(t.signature) : t.signature;
        int ok = EVP_DigestVerify(md, sig.data(), sig.size(), reinterpret_cast<const uint8_t*>(t.signing_input.data()),
                                  t.signing_input.size());
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(pkey);
        return ok == 1;
    }
    return false;
}

IssuerOptions options(policy::SigningAlgorithm alg = policy::SigningAlgorithm::es256) {
    IssuerOptions o;
    o.settings.url = "https://node1.example:8421";
    o.settings.algorithm = alg;
    o.trust_domain = "example.org";
    o.node = "node1";
    return o;
}

MintRequest request() {
    MintRequest r;
    r.subject = "spiffe://example.org/ai-agent";
    r.audience = {"vault"};
    r.extra = {{"binding", "openai-agent"}};
    return r;
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "credgate-issuer-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("an ES256 JWT-SVID has the SPIFFE header and claims and verifies against the JWKS") {
    ManualClock clock;
    auto issuer = Issuer::create(options(), clock);
    REQUIRE(issuer);
    auto token = (*issuer)->mint(request());
    REQUIRE(token);
    Jwt t = split(token->jwt);

    CHECK(std::string(t.header["alg"].GetString()) == "ES256");
    CHECK(std::string(t.header["typ"].GetString()) == "JWT");
    CHECK(std::string(t.header["kid"].GetString()) == (*issuer)->current_kid());
    CHECK(t.header.MemberCount() == 3);

    const auto& c = t.claims;
    CHECK(std::string(c["iss"].GetString()) == "https://node1.example:8421");
    CHECK(std::string(c["sub"].GetString()) == "spiffe://example.org/ai-agent");
    REQUIRE(c["aud"].IsArray());
    CHECK(std::string(c["aud"][0].GetString()) == "vault");
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    CHECK(c["iat"].GetInt64() == now);
    CHECK(c["nbf"].GetInt64() == now);
    CHECK(c["exp"].GetInt64() - c["iat"].GetInt64() == 300);
    CHECK(std::string(c["jti"].GetString()).size() >= 22);
    CHECK(std::string(c["node"].GetString()) == "node1");
    CHECK(std::string(c["binding"].GetString()) == "openai-agent");
    for (auto it = c.MemberBegin(); it != c.MemberEnd(); ++it) {
        std::string name = it->name.GetString();
        CHECK_MESSAGE(std::none_of(name.begin(), name.end(), [](char ch) { return std::isupper(ch); }), name);
    }

    CHECK(t.signature.size() == 64);
    CHECK(verify_with_jwks(token->jwt, (*issuer)->jwks_json()));

    // Claims altered after signing must not verify: the check above can fail.
    auto d1 = token->jwt.find('.');
    auto d2 = token->jwt.find('.', d1 + 1);
    std::string claims = decode_text(std::string_view(token->jwt).substr(d1 + 1, d2 - d1 - 1));
    claims.replace(claims.find("ai-agent"), 8, "ai-agenX");
    std::string tampered = token->jwt.substr(0, d1 + 1) + base64url_encode(claims) + token->jwt.substr(d2);
    CHECK(!verify_with_jwks(tampered, (*issuer)->jwks_json()));

    auto second = (*issuer)->mint(request());
    REQUIRE(second);
    CHECK(second->jti != token->jti);
}

TEST_CASE("RS256 and EdDSA tokens verify against their JWKS") {
    for (auto alg : {policy::SigningAlgorithm::rs256, policy::SigningAlgorithm::eddsa}) {
        CAPTURE(algorithm_name(alg));
        ManualClock clock;
        auto issuer = Issuer::create(options(alg), clock);
        REQUIRE(issuer);
        auto token = (*issuer)->mint(request());
        REQUIRE(token);
        Jwt t = split(token->jwt);
        CHECK(std::string(t.header["alg"].GetString()) == algorithm_name(alg));
        CHECK(verify_with_jwks(token->jwt, (*issuer)->jwks_json()));
    }
}

TEST_CASE("every token a key signs verifies, not only the first") {
    // A key keeps one signer for all its signatures, and the signer changes state with each one.
    for (auto alg : {policy::SigningAlgorithm::es256, policy::SigningAlgorithm::rs256,
                     policy::SigningAlgorithm::eddsa}) {
        CAPTURE(algorithm_name(alg));
        ManualClock clock;
        auto issuer = Issuer::create(options(alg), clock);
        REQUIRE(issuer);
        for (int i = 0; i < 8; ++i) {
            CAPTURE(i);
            clock.advance(std::chrono::seconds(1));
            auto token = (*issuer)->mint(request());
            REQUIRE(token);
            CHECK(verify_with_jwks(token->jwt, (*issuer)->jwks_json()));
        }
    }
}

TEST_CASE("the JWKS and discovery documents describe the signing keys") {
    ManualClock clock;
    auto opts = options();
    opts.settings.url = "https://issuer.example/credgate/";
    auto issuer = Issuer::create(opts, clock);
    REQUIRE(issuer);

    rapidjson::Document jwks;
    jwks.Parse((*issuer)->jwks_json().c_str());
    REQUIRE(jwks["keys"].Size() == 1);
    const auto& k = jwks["keys"][0];
    CHECK(std::string(k["kty"].GetString()) == "EC");
    CHECK(std::string(k["crv"].GetString()) == "P-256");
    CHECK(std::string(k["use"].GetString()) == "sig");
    CHECK(std::string(k["alg"].GetString()) == "ES256");
    CHECK(std::string(k["kid"].GetString()) == (*issuer)->current_kid());
    CHECK((*issuer)->current_kid().size() == 43);  // base64url of a SHA-256 digest

    rapidjson::Document disco;
    disco.Parse((*issuer)->discovery_json().c_str());
    CHECK(std::string(disco["issuer"].GetString()) == "https://issuer.example/credgate/");
    CHECK(std::string(disco["jwks_uri"].GetString()) == "https://issuer.example/credgate/keys");
    CHECK(std::string(disco["id_token_signing_alg_values_supported"][0].GetString()) == "ES256");
    CHECK(std::string(disco["response_types_supported"][0].GetString()) == "id_token");
    CHECK(std::string(disco["subject_types_supported"][0].GetString()) == "public");
    CHECK((*issuer)->discovery_path() == "/credgate/.well-known/openid-configuration");
    CHECK((*issuer)->jwks_path() == "/credgate/keys");
}

TEST_CASE("claim values are escaped and registered or mixed-case claim names are refused") {
    ManualClock clock;
    auto issuer = Issuer::create(options(), clock);
    REQUIRE(issuer);
    auto r = request();
    r.extra = {{"binding", "a\"b\\c\n"}};
    auto token = (*issuer)->mint(r);
    REQUIRE(token);
    CHECK(std::string(split(token->jwt).claims["binding"].GetString()) == "a\"b\\c\n");

    for (const char* name : {"sub", "Sub", "EXP", "exp", "with space", ""}) {
        auto bad = request();
        bad.extra = {{name, "x"}};
        auto res = (*issuer)->mint(bad);
        CHECK_MESSAGE(!res, name);
        if (!res) CHECK(res.error().kind == ErrorKind::invalid_argument);
    }
    auto no_aud = request();
    no_aud.audience.clear();
    CHECK(!(*issuer)->mint(no_aud));
    auto single = request();
    single.audience_as_string = true;
    auto s = (*issuer)->mint(single);
    REQUIRE(s);
    CHECK(split(s->jwt).claims["aud"].IsString());
}

TEST_CASE("rotation keeps the previous key in the JWKS until its last token expires, then drops it") {
    ManualClock clock;
    auto opts = options();
    opts.settings.token_ttl = std::chrono::seconds{300};
    opts.settings.key_rotation = std::chrono::hours{1};
    auto issuer = Issuer::create(opts, clock);
    REQUIRE(issuer);
    std::string first_kid = (*issuer)->current_kid();

    const TimePoint start = clock.now();
    CHECK((*issuer)->current_key_created() == start);

    clock.advance(std::chrono::minutes{59});
    CHECK((*issuer)->current_key_created() == start);  // its age is now 59 min
    auto old_token = (*issuer)->mint(request());  // expires at 64 min
    REQUIRE(old_token);
    CHECK(old_token->kid == first_kid);

    clock.advance(std::chrono::minutes{1});  // rotation at 60 min
    std::string second_kid = (*issuer)->current_kid();
    CHECK(second_kid != first_kid);
    CHECK((*issuer)->current_key_created() == start + std::chrono::minutes{60});
    CHECK((*issuer)->published_kids() == std::vector<std::string>{second_kid, first_kid});
    auto new_token = (*issuer)->mint(request());
    REQUIRE(new_token);
    CHECK(new_token->kid == second_kid);
    CHECK(verify_with_jwks(old_token->jwt, (*issuer)->jwks_json()));
    CHECK(verify_with_jwks(new_token->jwt, (*issuer)->jwks_json()));

    // The old token expires at 64 min; verifiers allow kVerifierClockSkew after that.
    clock.advance(std::chrono::minutes{4} + kVerifierClockSkew - std::chrono::seconds{1});
    CHECK((*issuer)->published_kids().size() == 2);
    clock.advance(std::chrono::seconds{1});
    CHECK((*issuer)->published_kids() == std::vector<std::string>{second_kid});
    CHECK(!verify_with_jwks(old_token->jwt, (*issuer)->jwks_json()));
    CHECK(verify_with_jwks(new_token->jwt, (*issuer)->jwks_json()));

    // At the next rotation every token of the second key is long expired: it leaves at once.
    clock.advance(std::chrono::hours{1});
    CHECK((*issuer)->published_kids().size() == 1);
    CHECK((*issuer)->current_kid() != second_kid);
}

TEST_CASE("a persisted key file is created 0600, reloaded with the same kid and its age, and never rotated") {
    TempDir dir;
    ManualClock clock;
    auto opts = options();
    opts.settings.key_file = (dir.path / "issuer.key").string();
    std::string kid;
    std::string pem;
    {
        auto issuer = Issuer::create(opts, clock);
        REQUIRE(issuer);
        kid = (*issuer)->current_kid();
        pem = (*issuer)->public_key_pem();
        CHECK((*issuer)->current_key_created() == clock.now());  // created just now
        CHECK(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        struct stat st {};
        REQUIRE(::stat(opts.settings.key_file->c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(clock.pending() == 0);
    }
    std::ifstream in(*opts.settings.key_file);
    std::stringstream content;
    content << in.rdbuf();
    CHECK(content.str().starts_with("-----BEGIN PRIVATE KEY-----"));

    // Reloaded, the key is as old as its file.
    const TimePoint written{std::chrono::seconds{1'600'000'000}};
    const struct timespec times[2] = {{1'600'000'000, 0}, {1'600'000'000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, opts.settings.key_file->c_str(), times, 0) == 0);
    auto again = Issuer::create(opts, clock);
    REQUIRE(again);
    CHECK((*again)->current_kid() == kid);
    CHECK((*again)->current_key_created() == written);
    CHECK((*again)->public_key_pem() == pem);
    auto token = (*again)->mint(request());
    REQUIRE(token);
    CHECK(verify_with_jwks(token->jwt, (*again)->jwks_json()));
    clock.advance(std::chrono::hours{48});
    CHECK((*again)->current_kid() == kid);

    SUBCASE("a key file readable by group or other is refused") {
        REQUIRE(::chmod(opts.settings.key_file->c_str(), 0640) == 0);
        auto refused = Issuer::create(opts, clock);
        REQUIRE(!refused);
        CHECK(refused.error().kind == ErrorKind::config);
        CHECK(refused.error().message.find("0640") != std::string::npos);
    }
    SUBCASE("a key file of another algorithm is refused") {
        auto rsa = opts;
        rsa.settings.algorithm = policy::SigningAlgorithm::rs256;
        auto refused = Issuer::create(rsa, clock);
        REQUIRE(!refused);
        CHECK(refused.error().kind == ErrorKind::config);
    }
}

TEST_CASE("invalid issuer settings are configuration errors") {
    ManualClock clock;
    auto opts = options();
    opts.settings.url = "issuer.example";
    auto r = Issuer::create(opts, clock);
    REQUIRE(!r);
    CHECK(r.error().kind == ErrorKind::config);
    opts = options();
    opts.settings.token_ttl = std::chrono::seconds{0};
    CHECK(!Issuer::create(opts, clock));
}

TEST_CASE("options from the agent configuration put the node name in every token") {
    policy::AgentConfig config;
    config.trust_domain = "example.org";
    config.node = "gpu-17";
    config.issuer.url = "https://gpu-17.example:8421";
    config.issuer.token_ttl = std::chrono::seconds{120};
    ManualClock clock;
    auto issuer = Issuer::create(IssuerOptions::from_config(config), clock);
    REQUIRE(issuer);
    auto token = (*issuer)->mint(request());
    REQUIRE(token);
    Jwt t = split(token->jwt);
    CHECK(std::string(t.claims["node"].GetString()) == "gpu-17");
    CHECK(std::string(t.claims["iss"].GetString()) == "https://gpu-17.example:8421");
    CHECK(t.claims["exp"].GetInt64() - t.claims["iat"].GetInt64() == 120);
    CHECK(token->expires_at - token->issued_at == std::chrono::seconds{120});
}
