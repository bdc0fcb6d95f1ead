// SPDX-License-Identifier: Apache-2.0
// Log lines as journal entries (the native protocol, through libsystemd): whether stderr is
// journald's stream for this process, and the fields of one entry.
#pragma once

#include "common/log.hpp"

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace credgate::log {

// Whether `name` may name a journal field: [A-Z][A-Z0-9_]*, at most 64 bytes.
bool valid_field_name(std::string_view name) noexcept;

// One entry as "NAME=value" strings: MESSAGE ("component: message", as on stderr), PRIORITY,
// SYSLOG_IDENTIFIER, CREDGATE_COMPONENT, then every field with a valid name.
std::vector<std::string> journal_entry(Level level, std::string_view component, std::string_view message,
                                       const Fields& fields);

// Whether JOURNAL_STREAM ("<device>:<inode>", set by systemd for a service whose stderr is the
// journal) names the file with this device and inode.
bool journal_stream_matches(std::string_view journal_stream, dev_t device, ino_t inode) noexcept;

// Whether stderr is journald's stream (JOURNAL_STREAM matches fstat(2) of stderr); decided once.
bool stderr_is_journal() noexcept;

// Sends one entry to journald; false when it could not be sent (the caller then uses stderr).
bool send_to_journal(const std::vector<std::string>& entry);

}  // namespace credgate::log
