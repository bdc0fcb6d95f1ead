// SPDX-License-Identifier: Apache-2.0
// Reads objects of the older core.riptides.io/v1alpha1 API group and converts them to
// credgate.io/v1alpha1 documents, with a note on every change; printing them is the caller's part.
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/model.hpp"

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credgate::policy {

inline constexpr const char* kSeedApiVersion = "core.riptides.io/v1alpha1";

struct SeedMember;

// A YAML value as plain data, in document order.
struct SeedValue {
    enum class Type { null, scalar, sequence, mapping };
    // What a YAML reader makes of the scalar: quoted scalars are always text.
    enum class ScalarType { text, integer, number, boolean };

    Type type = Type::null;
    ScalarType scalar_type = ScalarType::text;
    std::string scalar;
    std::vector<SeedValue> items;                           // sequence
    // A mapping, in document order. Its own type, not std::pair: a pair of an incomplete type is
    // undefined, and clang with libstdc++ refuses it.
    std::vector<SeedMember> members;
};

struct SeedMember {
    std::string key;
    SeedValue value;
};

enum class NoteKind {
    changed,    // an expected change (apiVersion, metadata.namespace, scope, status): a comment only
    dropped,    // a field or object with no credgate equivalent: a comment and a warning
    attention,  // the object is weaker or invalid until the operator acts (e.g. a process:name-only selector)
};

struct ConversionNote {
    NoteKind kind = NoteKind::changed;
    // Where in the seed file; `field` is the seed field it is about ("metadata.namespace",
    // "spec.selectors[0]"), so the comment goes there or on the nearest field that was kept.
    Diagnostic finding;
};

struct ConvertedObject {
    std::string object;                // "Kind/name"
    SourceLocation location;           // of the seed document
    std::optional<SeedValue> document; // the credgate.io/v1alpha1 document; nullopt when dropped whole
    std::vector<ConversionNote> notes; // in document order
};

// Every document of a file, converted. Failures (unreadable, not YAML, a document that is not an
// object with apiVersion and kind) are errors naming the file; nothing of that file converts then.
using ConversionResult = std::expected<std::vector<ConvertedObject>, std::vector<Diagnostic>>;
ConversionResult convert_seed_file(const std::string& path);
ConversionResult convert_seed_text(std::string_view yaml, const std::string& file_name);

// For `credgatectl validate`: how to reach credgate's apiVersion from `api_version`, or empty.
std::string api_version_hint(std::string_view api_version);

}  // namespace credgate::policy
