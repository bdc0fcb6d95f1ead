// SPDX-License-Identifier: Apache-2.0
// Control socket client for credgatectl over http::fetch_sync's unix: URLs.
#include "cli/control_client.hpp"

#include "http/client_factory.hpp"
#include "policy/loader.hpp"

#include <rapidjson/document.h>

#include <fmt/format.h>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace credgate::cli {
namespace {
constexpr const char* kDefaultSocket = "/run/credgate/control.sock";

std::string socket_path(const ControlTarget& t) {
    if (!t.socket.empty()) return t.socket;
    std::string config = t.config.empty() ? policy::kDefaultConfigPath : t.config;
    struct stat st {};
    if (!t.config.empty() || ::stat(config.c_str(), &st) == 0) {
        auto loaded = policy::load_agent_config(config);
        if (loaded) return loaded->value.control.socket;
    }
    return kDefaultSocket;
}
}  // namespace

void add_control_options(CLI::App& app, ControlTarget& target) {
    app.add_option(
        "--socket", target.socket,
        "credgated's control socket (default: control.socket of the settings file, else /run/credgate/control.sock)");
    app.add_option("-c,--config", target.config, "settings file to take the control socket from");
}

Result<ControlReply> control_request(const ControlTarget& target, const std::string& method, const std::string& path,
                                     Duration timeout) {
    const std::string sock = socket_path(target);
    struct stat st {};
    if (::stat(sock.c_str(), &st) != 0) {
        if (errno == EACCES)
            return fail(ErrorKind::permission,
                        fmt::format("permission denied on the control socket {}: credgatectl must run as root", sock));
        return fail(ErrorKind::unavailable,
                    fmt::format("credgated is not running or the control socket {} is missing", sock));
    }
    http::Request req;
    req.method = method;
    req.url = "unix:" + sock + ":" + path;
    req.timeout = timeout;
    if (method == "POST") req.headers.push_back({"Content-Type", "application/json"});
    auto r = http::fetch_sync(std::move(req));
    if (!r) {
        if (r.error().kind == ErrorKind::permission)
            return fail(ErrorKind::permission,
                        fmt::format("permission denied on the control socket {}: credgatectl must run as root", sock));
        return fail(ErrorKind::unavailable, fmt::format("credgated is not running or the control socket {} is missing "
                                                        "(connecting failed: {})",
                                                        sock, r.error().message));
    }
    if (r->status == 403)  // credgated's own check of the caller (see peer_allowed in the daemon)
        return fail(ErrorKind::permission, fmt::format("credgated refused this user on the control socket {}: {}",
                                                       sock, first_error(r->body)));
    return ControlReply{r->status, std::move(r->body)};
}

std::optional<ControlReply> ask_credgated(std::string_view command, const ControlTarget& target,
                                          const std::string& method, const std::string& path, Duration timeout) {
    auto reply = control_request(target, method, path, timeout);
    if (!reply) {
        std::fprintf(stderr, "credgatectl %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                     reply.error().message.c_str());
        return std::nullopt;
    }
    return std::move(*reply);
}

void report_unusable(std::string_view command, const ControlReply& reply) {
    std::fprintf(stderr, "credgatectl %.*s: credgated answered %d: %s\n", static_cast<int>(command.size()),
                 command.data(), reply.status, first_error(reply.body).c_str());
}

std::string first_error(const std::string& body) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    if (!d.HasParseError() && d.IsObject() && d.HasMember("errors") && d["errors"].IsArray() && !d["errors"].Empty() &&
        d["errors"][0].IsString())
        return d["errors"][0].GetString();
    return body;
}

std::string query_value(std::string_view value) {
    std::string out;
    for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

}  // namespace credgate::cli
