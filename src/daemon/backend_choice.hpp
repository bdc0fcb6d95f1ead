// SPDX-License-Identifier: Apache-2.0
// Which delivery backend a binding uses: its `propagation`, or for `auto` the settings'
// `delivery.backend`, whose own `auto` means sysfs when credgate.ko is loaded and a file otherwise.
#pragma once

#include "policy/model.hpp"

#include <string>
#include <string_view>

namespace credgate::daemon {

// Never DeliveryBackend::auto_select.
policy::DeliveryBackend choose_backend(policy::DeliveryBackend propagation, policy::DeliveryBackend fallback,
                                       bool module_loaded) noexcept;

// Why a binding that must use sysfs is blocked while the module is not loaded, and what to run.
std::string module_missing_message(const std::string& binding, const std::string& sysfs_root);

}  // namespace credgate::daemon
