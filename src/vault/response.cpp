// SPDX-License-Identifier: Apache-2.0
// Typed, validated views of Vault's success envelopes (vault-wire.md §1.2, §2.2, §3, §5.1).
#include "vault/response.hpp"

#include "vault/json.hpp"

#include <fmt/format.h>

#include <limits>

namespace credgate::vault {
namespace {

// Field access that turns every type mismatch into a protocol error naming the field.
class Reader {
public:
    Reader(Operation op) : op_(op) {}

    VaultError error(std::string what) const { return protocol_error(op_, 200, std::move(what)); }

    // Absent and null both count as "missing".
    const json::Value* member(const json::Value& obj, const char* name) const {
        auto it = obj.FindMember(name);
        if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
        return &it->value;
    }

    VaultResult<std::string> string(const json::Value& obj, const char* name, const char* where,
                                    bool required) const {
        const auto* v = member(obj, name);
        if (!v) {
            if (required) return std::unexpected(error(fmt::format("field '{}{}' is missing", where, name)));
            return std::string();
        }
        if (!v->IsString()) return std::unexpected(error(fmt::format("field '{}{}' is not a string", where, name)));
        return std::string(v->GetString(), v->GetStringLength());
    }

    VaultResult<bool> boolean(const json::Value& obj, const char* name, const char* where) const {
        const auto* v = member(obj, name);
        if (!v) return false;
        if (!v->IsBool()) return std::unexpected(error(fmt::format("field '{}{}' is not a boolean", where, name)));
        return v->GetBool();
    }

    // Non-negative integer seconds that fit comfortably in a time point.
    VaultResult<int64_t> integer(const json::Value& obj, const char* name, const char* where, int64_t min) const {
        const auto* v = member(obj, name);
        if (!v) return int64_t{0};
        if (!v->IsInt64())
            return std::unexpected(error(fmt::format("field '{}{}' is not an integer", where, name)));
        const int64_t n = v->GetInt64();
        constexpr int64_t kMax = int64_t{100} * 365 * 24 * 3600;  // 100 years: beyond that it is garbage
        if (n < min || n > kMax)
            return std::unexpected(error(fmt::format("field '{}{}' is out of range ({})", where, name, n)));
        return n;
    }

    VaultResult<std::vector<std::string>> strings(const json::Value& obj, const char* name, const char* where) const {
        std::vector<std::string> out;
        const auto* v = member(obj, name);
        if (!v) return out;
        if (!v->IsArray())
            return std::unexpected(error(fmt::format("field '{}{}' is not an array", where, name)));
        for (const auto& e : v->GetArray()) {
            if (!e.IsString())
                return std::unexpected(error(fmt::format("field '{}{}' has a non-string element", where, name)));
            out.emplace_back(e.GetString(), e.GetStringLength());
        }
        return out;
    }

private:
    Operation op_;
};

VaultResult<bool> parse_root(json::Document& doc, std::string_view body, const Reader& r) {
    if (body.size() > kMaxResponseBody)
        return std::unexpected(r.error(fmt::format("response body of {} bytes exceeds the {} byte limit",
                                                   body.size(), kMaxResponseBody)));
    if (body.empty()) return std::unexpected(r.error("response body is empty"));
    if (!json::parse(doc, body)) return std::unexpected(r.error("response is not JSON: " + json::parse_error(doc)));
    if (!doc.IsObject()) return std::unexpected(r.error("response is not a JSON object"));
    return true;
}

}  // namespace

VaultResult<LoginResult> parse_login_response(std::string_view body, Operation op) {
    Reader r(op);
    json::Document doc;
    if (auto ok = parse_root(doc, body, r); !ok) return std::unexpected(ok.error());
    const auto* auth = r.member(doc, "auth");
    if (!auth) return std::unexpected(r.error("field 'auth' is missing"));
    if (!auth->IsObject()) return std::unexpected(r.error("field 'auth' is not an object"));

    LoginResult out;
    auto token = r.string(*auth, "client_token", "auth.", true);
    if (!token) return std::unexpected(token.error());
    if (token->empty()) return std::unexpected(r.error("field 'auth.client_token' is empty"));
    out.token = Token(std::move(*token));
    auto accessor = r.string(*auth, "accessor", "auth.", false);
    if (!accessor) return std::unexpected(accessor.error());
    out.accessor = std::move(*accessor);
    auto ttl = r.integer(*auth, "lease_duration", "auth.", 0);
    if (!ttl) return std::unexpected(ttl.error());
    out.lease_duration = std::chrono::seconds{*ttl};
    auto renewable = r.boolean(*auth, "renewable", "auth.");
    if (!renewable) return std::unexpected(renewable.error());
    out.renewable = *renewable;
    auto uses = r.integer(*auth, "num_uses", "auth.", 0);
    if (!uses) return std::unexpected(uses.error());
    out.num_uses = *uses;
    auto policies = r.strings(*auth, "policies", "auth.");
    if (!policies) return std::unexpected(policies.error());
    out.policies = std::move(*policies);
    auto warnings = r.strings(doc, "warnings", "");
    if (!warnings) return std::unexpected(warnings.error());
    out.warnings = std::move(*warnings);
    return out;
}

namespace {
// The envelope's lease members, shared by secret reads and lease renewals.
template <typename Out>
VaultResult<void> read_lease_fields(Reader& r, const json::Document& doc, bool id_required, Out& out) {
    auto lease_id = r.string(doc, "lease_id", "", id_required);
    if (!lease_id) return std::unexpected(lease_id.error());
    out.lease_id = std::move(*lease_id);
    auto ttl = r.integer(doc, "lease_duration", "", 0);
    if (!ttl) return std::unexpected(ttl.error());
    out.lease_duration = std::chrono::seconds{*ttl};
    auto renewable = r.boolean(doc, "renewable", "");
    if (!renewable) return std::unexpected(renewable.error());
    out.renewable = *renewable;
    auto warnings = r.strings(doc, "warnings", "");
    if (!warnings) return std::unexpected(warnings.error());
    out.warnings = std::move(*warnings);
    return {};
}
}  // namespace

VaultResult<SecretResult> parse_secret_response(std::string_view body) {
    Reader r(Operation::read);
    json::Document doc;
    if (auto ok = parse_root(doc, body, r); !ok) return std::unexpected(ok.error());

    SecretResult out;
    if (auto ok = read_lease_fields(r, doc, false, out); !ok) return std::unexpected(ok.error());

    const auto* data = r.member(doc, "data");
    if (!data) return std::unexpected(r.error("field 'data' is missing"));
    if (!data->IsObject()) return std::unexpected(r.error("field 'data' is not an object"));

    // KV v2 wraps the secret as data.data next to data.metadata (with a version). There is no
    // other marker in the envelope; checking the metadata shape keeps a KV v1 secret that happens
    // to have a "data" key from being unwrapped.
    const json::Value* payload = data;
    const auto* inner = r.member(*data, "data");
    const auto* metadata = r.member(*data, "metadata");
    if (data->MemberCount() == 2 && inner && inner->IsObject() && metadata && metadata->IsObject() &&
        metadata->HasMember("version") && metadata->HasMember("created_time")) {
        auto version = r.integer(*metadata, "version", "data.metadata.", 0);
        if (!version) return std::unexpected(version.error());
        out.is_kv2 = true;
        out.kv2_version = *version;
        payload = inner;
    }
    out.data_json = json::to_compact(*payload);
    for (auto it = payload->MemberBegin(); it != payload->MemberEnd(); ++it) {
        if (it->value.IsString())
            out.string_fields.emplace(std::string(it->name.GetString(), it->name.GetStringLength()),
                                      std::string(it->value.GetString(), it->value.GetStringLength()));
    }
    return out;
}

VaultResult<LeaseRenewal> parse_lease_renewal(std::string_view body) {
    Reader r(Operation::renew_lease);
    json::Document doc;
    if (auto ok = parse_root(doc, body, r); !ok) return std::unexpected(ok.error());
    LeaseRenewal out;
    if (auto ok = read_lease_fields(r, doc, true, out); !ok) return std::unexpected(ok.error());
    return out;
}

}  // namespace credgate::vault
