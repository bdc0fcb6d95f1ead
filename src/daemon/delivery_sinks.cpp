// SPDX-License-Identifier: Apache-2.0
// DeliverySinks: the file and sysfs sinks, their kernel registration hooks, and the files a
// previous credgated left.
#include "daemon/delivery_sinks.hpp"

#include "common/log.hpp"
#include "daemon/backend_choice.hpp"
#include "protection/protection.hpp"

#include <unistd.h>

#include <map>
#include <set>

namespace credgate::daemon {
namespace {
constexpr const char* kComponent = "daemon";
}

Result<std::unique_ptr<DeliverySinks>> DeliverySinks::create(const policy::DeliverySettings& settings,
                                                             protection::Protection& protection) {
    std::unique_ptr<DeliverySinks> sinks(new DeliverySinks(settings, protection));
    delivery::FileSinkOptions so;
    so.root = settings.file_root;
    // Only root can mount the private tmpfs or ramfs; anyone else gets a plain directory (development).
    so.mount = ::geteuid() == 0;
    so.hooks = sinks->hooks(so.root);
    auto file = delivery::FileSink::create(so);
    if (!file) return fail(file.error());
    sinks->file_ = std::move(*file);
    return sinks;
}

// Every new file is registered with the kernel before it has content (DESIGN §4).
delivery::Hooks DeliverySinks::hooks(const std::string& root) {
    delivery::Hooks hooks;
    hooks.before_content = [this, root](const delivery::Target& t, delivery::FileId id) {
        return protection_.protect(root, t, id);
    };
    hooks.after_retire = [this, root](const delivery::Target& t, delivery::FileId id) {
        protection_.unprotect(root, t, id);
    };
    return hooks;
}

bool DeliverySinks::module_loaded() const { return delivery::sysfs_module_loaded(settings_.sysfs_root); }

policy::DeliveryBackend DeliverySinks::backend_of(const policy::BindingDefinition& definition) const {
    return choose_backend(definition.binding.propagation, settings_.backend, module_loaded());
}

Result<delivery::SysfsSink*> DeliverySinks::sysfs_sink() {
    if (sysfs_) return sysfs_.get();
    delivery::SysfsSinkOptions so;
    so.root = settings_.sysfs_root;
    so.hooks = hooks(so.root);
    auto sink = delivery::SysfsSink::create(std::move(so));
    if (!sink) return fail(sink.error());
    sysfs_ = std::move(*sink);
    log::info(kComponent, "Delivering to credgate.ko under '{}'", sysfs_->root());
    return sysfs_.get();
}

Result<delivery::Sink*> DeliverySinks::sink_for(policy::DeliveryBackend backend, const std::string& binding) {
    if (backend != policy::DeliveryBackend::sysfs) return file_.get();
    if (!module_loaded()) return fail(ErrorKind::unsupported, module_missing_message(binding, settings_.sysfs_root));
    auto sysfs = sysfs_sink();
    if (!sysfs) return fail(sysfs.error().kind, "credgate.ko cannot be used: " + sysfs.error().message);
    return *sysfs;
}

std::string DeliverySinks::path_of(policy::DeliveryBackend backend, const delivery::Target& target) const {
    if (backend != policy::DeliveryBackend::sysfs) return file_->path_of(target);
    return delivery::SysfsSink::path_in(settings_.sysfs_root, target);
}

// Files a previous credgated left (it crashed, or handed over to this one): a file this one publishes
// again through the same backend is kept only while the kernel still protects it for that binding (the
// pinned programs and its slot were kept); every other file, a temp file of an interrupted publish
// included, goes before any binding starts.
template <class S>
void DeliverySinks::clear_leftovers(S& sink, policy::DeliveryBackend backend, bool loaded,
                                    const std::vector<policy::BindingDefinition>& definitions) {
    auto files = sink.list();
    if (!files) {
        log::error(kComponent, "Failed to list the files in '{}': {}", sink.root(), files.error().message);
        return;
    }
    std::set<std::string> expected;
    std::map<std::string, std::string> spiffe_ids;  // by binding name
    for (const auto& d : definitions) {
        spiffe_ids[d.binding.meta.name] = d.spiffe_id;
        if (choose_backend(d.binding.propagation, settings_.backend, loaded) == backend)
            expected.insert(sink.path_of({d.workload_uuid, d.binding.meta.name, d.binding.output.file_name}));
    }
    // Without kernel enforcement nothing protects any file: one published again is kept all the same.
    const bool unprotected = protection_.mode() == protection::ProtectionMode::insecure;
    for (const auto& [target, id] : *files) {
        const std::string path = sink.path_of(target);
        auto known = spiffe_ids.find(target.binding);
        const auto fields = log::binding_fields(target.binding, known == spiffe_ids.end() ? "" : known->second);
        if (expected.contains(path) && (unprotected || protection_.holds(target, id))) {
            log::info(fields, kComponent, "Kept '{}' from the previous credgated{}", path,
                      unprotected ? " (without kernel enforcement)" : ": the kernel still protects it");
            continue;
        }
        const char* why = expected.contains(path) ? "the kernel no longer protects it for its binding"
                                                  : "no binding publishes it";
        if (auto r = sink.remove_file(target); !r)
            log::error(fields, kComponent, "Failed to remove '{}' left by a previous credgated ({}): {}", path, why,
                       r.error().message);
        else
            log::notice(fields, kComponent, "Removed '{}' left by a previous credgated: {}", path, why);
    }
}

void DeliverySinks::clear_leftover_files(const std::vector<policy::BindingDefinition>& definitions) {
    const bool loaded = module_loaded();
    clear_leftovers(*file_, policy::DeliveryBackend::file, loaded, definitions);
    if (!loaded) return;
    auto sink = sysfs_sink();
    if (!sink) {
        log::error(kComponent, "Failed to use credgate.ko: {}", sink.error().message);
        return;
    }
    clear_leftovers(**sink, policy::DeliveryBackend::sysfs, loaded, definitions);
}

DeliverySnapshot DeliverySinks::snapshot() const {
    const auto& mount = file_->mount();
    return {file_->root(),
            delivery::to_string(mount.filesystem),
            delivery::may_swap(mount.filesystem),
            mount.reason,
            file_->published_bytes(),
            file_->max_total_bytes(),
            settings_.sysfs_root,
            module_loaded()};
}

}  // namespace credgate::daemon
