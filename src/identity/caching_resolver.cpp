// SPDX-License-Identifier: Apache-2.0
// CachingResolver: each question is passed on the first time it is asked.
#include "identity/caching_resolver.hpp"

namespace credgate::identity {
namespace {

template <typename T, typename Ask>
Result<T> remembered(std::map<std::string, Result<T>>& cache, const std::string& key, Ask ask) {
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    return cache.emplace(key, ask()).first->second;
}

}  // namespace

Result<FileKey> CachingResolver::file(const std::string& path) {
    return remembered(files_, path, [&] { return host_.file(path); });
}
Result<std::string> CachingResolver::sha256_hex(const std::string& path) {
    return remembered(hashes_, path, [&] { return host_.sha256_hex(path); });
}
Result<uint32_t> CachingResolver::user(const std::string& name) {
    return remembered(users_, name, [&] { return host_.user(name); });
}
Result<uint32_t> CachingResolver::group(const std::string& name) {
    return remembered(groups_, name, [&] { return host_.group(name); });
}
Result<uint64_t> CachingResolver::cgroup(const std::string& path) {
    return remembered(cgroups_, path, [&] { return host_.cgroup(path); });
}
Result<UnitCgroup> CachingResolver::unit_cgroup(const std::string& unit) {
    return remembered(units_, unit, [&] { return host_.unit_cgroup(unit); });
}

}  // namespace credgate::identity
