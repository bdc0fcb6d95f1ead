// SPDX-License-Identifier: Apache-2.0
// Signatures of one SigningKey: the same input signs to the same bytes every time (RFC 6979 nonces
// for ES256), whether the key's signer is fresh or has signed before, and from several threads at once.
// Validity: issuer_test.cpp.
#include "issuer/signing_key.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace credgate;
using namespace credgate::issuer;

TEST_CASE("a key signs the same input to the same bytes, first and later, and after reloading its PEM") {
    for (auto alg : {policy::SigningAlgorithm::es256, policy::SigningAlgorithm::rs256,
                     policy::SigningAlgorithm::eddsa}) {
        CAPTURE(static_cast<int>(alg));
        auto key = SigningKey::generate(alg);
        REQUIRE(key);
        auto first = key->sign("header.claims");
        REQUIRE(first);
        auto other = key->sign("header.claimz");
        REQUIRE(other);
        auto again = key->sign("header.claims");
        REQUIRE(again);
        CHECK(*again == *first);
        CHECK(*other != *first);
        if (alg == policy::SigningAlgorithm::es256) CHECK(first->size() == 64);

        auto reloaded = SigningKey::from_pkcs8_pem(key->pkcs8_pem(), alg, "test");
        REQUIRE(reloaded);
        CHECK(reloaded->kid() == key->kid());
        auto fresh = reloaded->sign("header.claims");
        REQUIRE(fresh);
        CHECK(*fresh == *first);
    }
}

TEST_CASE("threads that share a key all get its signatures") {
    auto key = SigningKey::generate(policy::SigningAlgorithm::es256);
    REQUIRE(key);
    auto expected = key->sign("header.claims");
    REQUIRE(expected);
    constexpr int kThreads = 4;
    constexpr int kSignatures = 50;
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kSignatures; ++i) {
                auto s = key->sign("header.claims");
                if (!s || *s != *expected) ++wrong;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(wrong.load() == 0);
}
