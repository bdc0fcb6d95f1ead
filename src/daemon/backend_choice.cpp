// SPDX-License-Identifier: Apache-2.0
#include "daemon/backend_choice.hpp"

#include <fmt/format.h>

namespace credgate::daemon {

std::string_view to_string(Backend b) noexcept { return b == Backend::sysfs ? "sysfs" : "file"; }

Backend choose_backend(policy::Propagation propagation, policy::DeliveryBackend fallback, bool module_loaded) noexcept {
    switch (propagation) {
        case policy::Propagation::sysfs: return Backend::sysfs;
        case policy::Propagation::file: return Backend::file;
        case policy::Propagation::auto_select: break;
    }
    switch (fallback) {
        case policy::DeliveryBackend::sysfs: return Backend::sysfs;
        case policy::DeliveryBackend::file: return Backend::file;
        case policy::DeliveryBackend::auto_select: break;
    }
    return module_loaded ? Backend::sysfs : Backend::file;
}

std::string module_missing_message(const std::string& binding, const std::string& sysfs_root) {
    return fmt::format("the credgate kernel module is not loaded ('{}' is missing): load it with 'modprobe credgate' "
                       "(Debian package credgate-dkms), then run 'credgatectl reload'; or deliver to a file with "
                       "'propagation: {{file: {{}}}}' in CredentialBinding '{}'",
                       sysfs_root, binding);
}

}  // namespace credgate::daemon
