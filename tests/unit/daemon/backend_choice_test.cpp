// SPDX-License-Identifier: Apache-2.0
// The backend a binding's propagation and the settings pick, with and without credgate.ko.
#include "daemon/backend_choice.hpp"

#include <doctest/doctest.h>

using namespace credgate;
using namespace credgate::daemon;
using policy::DeliveryBackend;

TEST_CASE("an explicit propagation is used whether the module is loaded or not") {
    for (bool loaded : {false, true})
        for (auto fallback : {DeliveryBackend::auto_select, DeliveryBackend::file, DeliveryBackend::sysfs}) {
            CHECK(choose_backend(DeliveryBackend::sysfs, fallback, loaded) == DeliveryBackend::sysfs);
            CHECK(choose_backend(DeliveryBackend::file, fallback, loaded) == DeliveryBackend::file);
        }
}

TEST_CASE("auto follows delivery.backend, whose auto is sysfs exactly when the module is loaded") {
    CHECK(choose_backend(DeliveryBackend::auto_select, DeliveryBackend::auto_select, true) == DeliveryBackend::sysfs);
    CHECK(choose_backend(DeliveryBackend::auto_select, DeliveryBackend::auto_select, false) == DeliveryBackend::file);
    CHECK(choose_backend(DeliveryBackend::auto_select, DeliveryBackend::sysfs, false) == DeliveryBackend::sysfs);
    CHECK(choose_backend(DeliveryBackend::auto_select, DeliveryBackend::file, true) == DeliveryBackend::file);
}

TEST_CASE("a binding blocked by the missing module is told the command that loads it") {
    const auto m = module_missing_message("openai", "/sys/module/credgate/credentials");
    CHECK(m.find("modprobe credgate") != std::string::npos);
    CHECK(m.find("'/sys/module/credgate/credentials' is missing") != std::string::npos);
    CHECK(m.find("CredentialBinding 'openai'") != std::string::npos);
}
