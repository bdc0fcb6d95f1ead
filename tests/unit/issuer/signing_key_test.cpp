// SPDX-License-Identifier: Apache-2.0
// Signatures of one SigningKey: the same input signs to the same bytes every time (RFC 6979 nonces
// for ES256), whether the key's signer is fresh or has signed before. Validity: issuer_test.cpp.
#include "issuer/signing_key.hpp"

#include <doctest/doctest.h>

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
