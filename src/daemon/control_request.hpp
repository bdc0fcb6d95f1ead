// SPDX-License-Identifier: Apache-2.0
// A control request (method, path, query, body) decoded into the command it asks for, or the refusal
// the control API answers; no daemon state is read here (control_api.cpp runs the command).
#pragma once

#include "http/server.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <variant>

namespace credgate::daemon {

// No control endpoint takes parameters in its body: a body is empty or "{}". The control socket's
// server refuses a longer one before reading it (startup.cpp); the decoder refuses it as well.
inline constexpr size_t kControlMaxBodyBytes = 4096;

// One struct per route; equal when they ask the same.
namespace control {
struct GetStatus {  // GET /v1/status
    bool operator==(const GetStatus&) const = default;
};
struct GetBinding {  // GET /v1/bindings/<name>
    std::string name;
    bool operator==(const GetBinding&) const = default;
};
struct RotateBinding {  // POST /v1/bindings/<name>/rotate
    std::string name;
    bool operator==(const RotateBinding&) const = default;
};
struct GetIssuer {  // GET /v1/issuer
    bool operator==(const GetIssuer&) const = default;
};
struct Reload {  // POST /v1/reload
    bool operator==(const Reload&) const = default;
};
struct Handover {  // POST /v1/handover
    bool operator==(const Handover&) const = default;
};
struct GetIdentities {  // GET /v1/identities
    bool operator==(const GetIdentities&) const = default;
};
struct Explain {  // GET /v1/explain?pid=P[&binding=B]
    pid_t pid = 0;  // > 0
    std::optional<std::string> binding;
    bool operator==(const Explain&) const = default;
};
struct ReadAudit {  // GET /v1/audit[?since=N][&binding=B][&verdict=V][&wait=0|1]
    uint64_t since = 0;
    std::optional<std::string> binding;
    std::optional<std::string> verdict;  // allow, deny or audit-deny
    bool wait = false;
    bool operator==(const ReadAudit&) const = default;
};
}  // namespace control

using ControlCommand = std::variant<control::GetStatus, control::GetBinding, control::RotateBinding, control::GetIssuer,
                                    control::Reload, control::Handover, control::GetIdentities, control::Explain,
                                    control::ReadAudit>;

// What the control API answers a request it cannot decode: 400 (bad binding name, query or body),
// 404 (no such endpoint), 405 (with the methods the path allows), 413 (body over the limit).
struct ControlRefusal {
    int status = 400;
    std::string message;
    std::string allow;  // for a 405: the Allow header
};

// Binding names in paths and queries must be names a policy can give (policy::object_name_error);
// text taken from the request is quoted in messages with its non-printable bytes escaped.
std::expected<ControlCommand, ControlRefusal> decode_control_request(const http::ServerRequest& request);

// {"errors": [message]} with the refusal's status, and Allow on a 405.
http::ServerResponse refusal_response(const ControlRefusal& refusal);

}  // namespace credgate::daemon
