// SPDX-License-Identifier: Apache-2.0
// sysfs delivery: credential files held by credgate.ko under /sys/module/credgate/credentials,
// created empty, registered with enforcement, then given content through /dev/credgate (ABI.md).
#pragma once

#include "delivery/sink.hpp"

#include <memory>
#include <string>

namespace credgate::delivery {

inline constexpr std::string_view kSysfsRoot = "/sys/module/credgate/credentials";
inline constexpr std::string_view kSysfsControl = "/dev/credgate";

struct SysfsSinkOptions {
    std::string root{kSysfsRoot};
    std::string control{kSysfsControl};
    Hooks hooks;
};

// Whether credgate.ko is loaded: its credentials directory exists.
bool sysfs_module_loaded(const std::string& root = std::string{kSysfsRoot});

class SysfsSink final : public Sink {
public:
    // Fails (unsupported) when the module is not loaded, naming the command that loads it.
    static Result<std::unique_ptr<SysfsSink>> create(SysfsSinkOptions options);

    // A new node is created empty, passed to hooks.before_content, and only then given content.
    // A node that exists with the same owner keeps its inode (and its registration): only its
    // content is replaced. One with another owner is removed and created again.
    Result<Published> publish(const Target& target, std::string_view bytes, const Ownership& owner) override;
    Result<void> remove(const std::string& workload_uuid, const std::string& binding) override;
    std::string path_of(const Target& target) const override;

private:
    explicit SysfsSink(SysfsSinkOptions options) : options_(std::move(options)) {}
    Result<void> submit(unsigned opcode, const Target& target, std::string_view content,
                        const Ownership& owner) const;

    SysfsSinkOptions options_;
};

}  // namespace credgate::delivery
