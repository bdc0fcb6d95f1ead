// SPDX-License-Identifier: Apache-2.0
#include "daemon/backend_choice.hpp"

#include <fmt/format.h>

namespace credgate::daemon {

using policy::DeliveryBackend;

DeliveryBackend choose_backend(DeliveryBackend propagation, DeliveryBackend fallback, bool module_loaded) noexcept {
    if (propagation != DeliveryBackend::auto_select) return propagation;
    if (fallback != DeliveryBackend::auto_select) return fallback;
    return module_loaded ? DeliveryBackend::sysfs : DeliveryBackend::file;
}

std::string module_missing_message(const std::string& binding, const std::string& sysfs_root) {
    return fmt::format("the credgate kernel module is not loaded ('{}' is missing): load it with 'modprobe credgate' "
                       "(Debian package credgate-dkms), then run 'credgatectl reload'; or deliver to a file with "
                       "'propagation: {{file: {{}}}}' in CredentialBinding '{}'",
                       sysfs_root, binding);
}

}  // namespace credgate::daemon
