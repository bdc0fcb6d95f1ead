// SPDX-License-Identifier: Apache-2.0
// Result and error types shared by every module: std::expected with a classified, human-readable error.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace credgate {

// Broad classes of failure; callers decide retry and wording from these, never from message text.
enum class ErrorKind {
    invalid_argument,  // bad input from a user or a file
    not_found,
    permission,        // refused by a peer or by the kernel
    unavailable,       // peer down, sealed, or transiently failing
    rate_limited,
    transport,         // connection, TLS, timeout
    protocol,          // a peer sent something we cannot parse or trust
    unsupported,       // this host lacks a feature
    config,            // a configuration that cannot work (e.g. a Vault role mis-set)
    internal,
};

const char* to_string(ErrorKind kind) noexcept;

struct Error {
    ErrorKind kind = ErrorKind::internal;
    std::string message;

    Error() = default;
    Error(ErrorKind k, std::string m) : kind(k), message(std::move(m)) {}
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for returning a failure: `return fail(ErrorKind::config, "...")`.
inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return std::unexpected<Error>(Error{kind, std::move(message)});
}

inline std::unexpected<Error> fail(Error error) { return std::unexpected<Error>(std::move(error)); }

}  // namespace credgate
