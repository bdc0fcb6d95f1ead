// SPDX-License-Identifier: Apache-2.0
// SigningKey over Botan 2; the one file that catches and translates Botan exceptions.
#include "issuer/signing_key.hpp"

#include "issuer/base64url.hpp"

#include <botan/bigint.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/hash.h>
#include <botan/pk_keys.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>
#include <botan/x509_key.h>

#include <mutex>

namespace credgate::issuer {
namespace {

constexpr const char* kP256 = "secp256r1";

const char* padding_for(policy::SigningAlgorithm alg) {
    switch (alg) {
        case policy::SigningAlgorithm::es256: return "EMSA1(SHA-256)";
        case policy::SigningAlgorithm::rs256: return "EMSA3(SHA-256)";
        case policy::SigningAlgorithm::eddsa: return "Pure";
    }
    return "";
}

std::string b64(const std::vector<uint8_t>& v) { return base64url_encode(std::span<const uint8_t>(v)); }
std::string b64(const Botan::secure_vector<uint8_t>& v) {
    return base64url_encode(std::span<const uint8_t>(v.data(), v.size()));
}

}  // namespace

struct SigningKey::Impl {
    policy::SigningAlgorithm alg;
    std::unique_ptr<Botan::Private_Key> key;
    std::vector<std::pair<std::string, std::string>> jwk;
    std::string kid;
    // Built on the first signature and kept: a PK_Signer's construction derives the RFC 6979 nonce
    // generator from the private scalar and draws and inverts a blinding factor, which took most of
    // a token's signing time when done per signature. A PK_Signer keeps per-message state (the
    // hash, the blinding pair it advances on every signature), so one signature at a time: the
    // mutex makes sign() safe from any thread, though the issuer calls it on the event loop's
    // thread only, where it is never contended. Declared after `key`, which it refers to.
    std::mutex signer_mutex;
    std::unique_ptr<Botan::PK_Signer> signer;  // guarded by signer_mutex
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

namespace {

// Fills the JWK members and the RFC 7638 thumbprint; fails if the key is not of the expected kind.
Result<void> describe(SigningKey::Impl& impl, std::string_view origin);

}  // namespace

Result<SigningKey> SigningKey::generate(policy::SigningAlgorithm alg) {
    try {
        auto impl = std::make_unique<Impl>();
        impl->alg = alg;
        auto& rng = Botan::system_rng();
        switch (alg) {
            case policy::SigningAlgorithm::es256:
                impl->key = std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group(kP256));
                break;
            case policy::SigningAlgorithm::rs256:
                impl->key = std::make_unique<Botan::RSA_PrivateKey>(rng, kRsaKeyBits);
                break;
            case policy::SigningAlgorithm::eddsa:
                impl->key = std::make_unique<Botan::Ed25519_PrivateKey>(rng);
                break;
        }
        if (auto r = describe(*impl, "generated key"); !r) return fail(r.error());
        return SigningKey(std::move(impl));
    } catch (const std::exception& e) {
        return fail(ErrorKind::internal, std::string("cannot generate a signing key: ") + e.what());
    }
}

Result<SigningKey> SigningKey::from_pkcs8_pem(std::string_view pem, policy::SigningAlgorithm alg,
                                              std::string_view origin) {
    try {
        Botan::DataSource_Memory source(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
        auto impl = std::make_unique<Impl>();
        impl->alg = alg;
        impl->key = Botan::PKCS8::load_key(source);
        if (!impl->key) return fail(ErrorKind::config, "no private key in '" + std::string(origin) + "'");
        if (auto r = describe(*impl, origin); !r) return fail(r.error());
        return SigningKey(std::move(impl));
    } catch (const std::exception& e) {
        return fail(ErrorKind::config, "cannot parse private key '" + std::string(origin) + "': " + e.what());
    }
}

namespace {

Result<void> describe(SigningKey::Impl& impl, std::string_view origin) {
    const std::string name = impl.key->algo_name();
    auto mismatch = [&](const char* wanted) {
        return fail(ErrorKind::config, "key '" + std::string(origin) + "' is " + name + ", but the algorithm " +
                                           "needs " + wanted);
    };
    std::string canonical;
    switch (impl.alg) {
        case policy::SigningAlgorithm::es256: {
            auto* ec = dynamic_cast<Botan::ECDSA_PrivateKey*>(impl.key.get());
            if (!ec) return mismatch("an ECDSA P-256 key");
            if (ec->domain() != Botan::EC_Group(kP256)) return mismatch("an ECDSA P-256 key (other curve)");
            std::string x = b64(Botan::BigInt::encode_1363(ec->public_point().get_affine_x(), 32));
            std::string y = b64(Botan::BigInt::encode_1363(ec->public_point().get_affine_y(), 32));
            impl.jwk = {{"kty", "EC"}, {"crv", "P-256"}, {"x", x}, {"y", y}};
            canonical = R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + R"("})";
            break;
        }
        case policy::SigningAlgorithm::rs256: {
            auto* rsa = dynamic_cast<Botan::RSA_PrivateKey*>(impl.key.get());
            if (!rsa) return mismatch("an RSA key");
            if (rsa->key_length() < kRsaKeyBits) return mismatch("an RSA key of at least 2048 bits");
            std::string n = b64(Botan::BigInt::encode(rsa->get_n()));
            std::string e = b64(Botan::BigInt::encode(rsa->get_e()));
            impl.jwk = {{"kty", "RSA"}, {"e", e}, {"n", n}};
            canonical = R"({"e":")" + e + R"(","kty":"RSA","n":")" + n + R"("})";
            break;
        }
        case policy::SigningAlgorithm::eddsa: {
            auto* ed = dynamic_cast<Botan::Ed25519_PrivateKey*>(impl.key.get());
            if (!ed) return mismatch("an Ed25519 key");
            std::string x = b64(ed->get_public_key());
            impl.jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", x}};
            // RFC 8037 §2: the OKP thumbprint members are crv, kty, x.
            canonical = R"({"crv":"Ed25519","kty":"OKP","x":")" + x + R"("})";
            break;
        }
    }
    auto sha = Botan::HashFunction::create_or_throw("SHA-256");
    auto digest = sha->process(canonical);
    impl.kid = b64(digest);
    return {};
}

}  // namespace

policy::SigningAlgorithm SigningKey::algorithm() const { return impl_->alg; }

const char* SigningKey::jws_alg() const {
    switch (impl_->alg) {
        case policy::SigningAlgorithm::es256: return "ES256";
        case policy::SigningAlgorithm::rs256: return "RS256";
        case policy::SigningAlgorithm::eddsa: return "EdDSA";
    }
    return "";
}

const std::string& SigningKey::kid() const { return impl_->kid; }

const std::vector<std::pair<std::string, std::string>>& SigningKey::jwk_members() const { return impl_->jwk; }

std::string SigningKey::pkcs8_pem() const { return Botan::PKCS8::PEM_encode(*impl_->key); }

std::string SigningKey::public_key_pem() const { return Botan::X509::PEM_encode(*impl_->key); }

Result<std::vector<uint8_t>> SigningKey::sign(std::string_view input) const {
    std::lock_guard lock(impl_->signer_mutex);
    try {
        auto& rng = Botan::system_rng();
        // IEEE 1363 is the fixed-width R||S encoding JWS requires for ECDSA (RFC 7518 §3.4).
        if (!impl_->signer)
            impl_->signer =
                std::make_unique<Botan::PK_Signer>(*impl_->key, rng, padding_for(impl_->alg), Botan::IEEE_1363);
        auto sig = impl_->signer->sign_message(reinterpret_cast<const uint8_t*>(input.data()), input.size(), rng);
        if (impl_->alg == policy::SigningAlgorithm::es256 && sig.size() != 64)
            return fail(ErrorKind::internal, "ES256 signature has " + std::to_string(sig.size()) + " bytes, not 64");
        return sig;
    } catch (const std::exception& e) {
        // A throw may leave part of the message in the signer's hash: the next signature starts afresh.
        impl_->signer.reset();
        return fail(ErrorKind::internal, std::string("cannot sign with key ") + impl_->kid + ": " + e.what());
    }
}

}  // namespace credgate::issuer
