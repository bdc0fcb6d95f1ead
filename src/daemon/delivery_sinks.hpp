// SPDX-License-Identifier: Apache-2.0
// credgated's delivery sinks: the file backend, set up at start, and credgate.ko's sysfs sink, set
// up the first time a binding needs it. Every new file is registered with the kernel first.
#pragma once

#include "common/result.hpp"
#include "daemon/snapshot.hpp"
#include "delivery/file_sink.hpp"
#include "delivery/sysfs_sink.hpp"
#include "policy/binding_definition.hpp"
#include "policy/model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace credgate::protection {
class Protection;
}

namespace credgate::daemon {

class DeliverySinks {
public:
    // Sets up the file backend under settings.file_root (a private tmpfs or ramfs when run as root).
    // `protection` must outlive the sinks.
    static Result<std::unique_ptr<DeliverySinks>> create(const policy::DeliverySettings& settings,
                                                         protection::Protection& protection);

    // Whether credgate.ko is loaded now.
    bool module_loaded() const;
    // The backend a binding delivers through now (never auto).
    policy::DeliveryBackend backend_of(const policy::BindingDefinition& definition) const;
    // The sink of a backend; sysfs fails (unsupported) while credgate.ko is not loaded, naming the command.
    Result<delivery::Sink*> sink_for(policy::DeliveryBackend backend, const std::string& binding);
    // Where a binding's file is published through `backend`, even when that sink cannot be used.
    std::string path_of(policy::DeliveryBackend backend, const delivery::Target& target) const;
    // Removes the files a previous credgated left (in credgate.ko and under the file backend's root),
    // but for those `definitions` publish again through the same backend and the kernel still protects
    // for their binding (without enforcement, --insecure-no-enforcement: that they publish again); done
    // before any binding starts, which then publishes over the files kept.
    void clear_leftover_files(const std::vector<policy::BindingDefinition>& definitions);
    DeliverySnapshot snapshot() const;

private:
    DeliverySinks(const policy::DeliverySettings& settings, protection::Protection& protection)
        : settings_(settings), protection_(protection) {}
    delivery::Hooks hooks(const std::string& root);
    Result<delivery::SysfsSink*> sysfs_sink();
    template <class S>
    void clear_leftovers(S& sink, policy::DeliveryBackend backend, bool module_loaded,
                         const std::vector<policy::BindingDefinition>& definitions);

    policy::DeliverySettings settings_;
    protection::Protection& protection_;
    std::unique_ptr<delivery::FileSink> file_;
    std::unique_ptr<delivery::SysfsSink> sysfs_;  // once a binding delivers through credgate.ko
};

}  // namespace credgate::daemon
