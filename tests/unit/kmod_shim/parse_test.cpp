// SPDX-License-Identifier: Apache-2.0
// The /dev/credgate operation layout and its parser: every refusal's errno, as ABI.md lists it.
#include "credgate_parse.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <string>

static_assert(sizeof(credgate_shim_op) == CREDGATE_SHIM_OP_SIZE);
static_assert(offsetof(credgate_shim_op, magic) == 0);
static_assert(offsetof(credgate_shim_op, version) == 4);
static_assert(offsetof(credgate_shim_op, opcode) == 6);
static_assert(offsetof(credgate_shim_op, flags) == 8);
static_assert(offsetof(credgate_shim_op, uid) == 12);
static_assert(offsetof(credgate_shim_op, content_len) == 16);
static_assert(offsetof(credgate_shim_op, reserved) == 20);
static_assert(offsetof(credgate_shim_op, uuid) == 24);
static_assert(offsetof(credgate_shim_op, dir) == 64);
static_assert(offsetof(credgate_shim_op, file) == 320);
static_assert(CREDGATE_SHIM_CONTENT_MAX >= 64 * 1024);

namespace {

constexpr const char* kUuid = "6f1c2b1e-8d3a-5b7c-9e0f-1a2b3c4d5e6f";

credgate_shim_op make_op(unsigned opcode, const char* file = "vault.json") {
    credgate_shim_op op{};
    op.magic = CREDGATE_SHIM_MAGIC;
    op.version = CREDGATE_SHIM_VERSION;
    op.opcode = static_cast<__u16>(opcode);
    std::memcpy(op.uuid, kUuid, std::strlen(kUuid));
    std::memcpy(op.dir, "crb-openai", 10);
    std::memcpy(op.file, file, std::strlen(file));
    return op;
}

int parse(const credgate_shim_op& op, size_t count) {
    credgate_parsed_op out{};
    return credgate_parse_op(&op, count, &out);
}

int parse_replace_of(const char* file) {
    auto op = make_op(CREDGATE_SHIM_OP_REPLACE, file);
    op.content_len = 4;
    return parse(op, sizeof(op) + 4);
}

}  // namespace

TEST_CASE("well-formed create, replace and remove operations parse with their names and owner") {
    auto op = make_op(CREDGATE_SHIM_OP_CREATE);
    op.flags = CREDGATE_SHIM_F_OWNER;
    op.uid = 1000;
    credgate_parsed_op out{};
    REQUIRE(credgate_parse_op(&op, sizeof(op), &out) == 0);
    CHECK(out.opcode == CREDGATE_SHIM_OP_CREATE);
    CHECK(out.owner == 1);
    CHECK(out.uid == 1000);
    CHECK(std::string(out.uuid) == kUuid);
    CHECK(std::string(out.dir) == "crb-openai");
    CHECK(std::string(out.file) == "vault.json");

    CHECK(parse_replace_of("vault.json") == 0);
    CHECK(parse(make_op(CREDGATE_SHIM_OP_REMOVE), sizeof(op)) == 0);
    auto big = make_op(CREDGATE_SHIM_OP_REPLACE);
    big.content_len = CREDGATE_SHIM_CONTENT_MAX;
    CHECK(parse(big, sizeof(big) + CREDGATE_SHIM_CONTENT_MAX) == 0);
}

TEST_CASE("a truncated, oversized or mis-sized write is refused with its errno") {
    auto op = make_op(CREDGATE_SHIM_OP_REPLACE);
    op.content_len = 4;
    CHECK(parse(op, sizeof(op) - 1) == -EINVAL);
    CHECK(parse(op, 0) == -EINVAL);
    CHECK(parse(op, sizeof(op) + 3) == -EINVAL);
    CHECK(parse(op, sizeof(op) + 5) == -EINVAL);
    CHECK(parse(op, sizeof(op) + CREDGATE_SHIM_CONTENT_MAX + 1) == -EFBIG);
    op.content_len = CREDGATE_SHIM_CONTENT_MAX + 1;
    CHECK(parse(op, sizeof(op) + 4) == -EFBIG);
}

TEST_CASE("a header with a wrong magic, version, opcode, flag or reserved field is refused") {
    auto op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.magic ^= 1;
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.version = 2;
    CHECK(parse(op, sizeof(op)) == -EPROTONOSUPPORT);
    CHECK(parse(make_op(0), sizeof(op)) == -EOPNOTSUPP);
    CHECK(parse(make_op(9), sizeof(op)) == -EOPNOTSUPP);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.flags = 0x80;
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.reserved = 1;
    CHECK(parse(op, sizeof(op)) == -EINVAL);
}

TEST_CASE("an owner is only given at create, never as uid -1, and content only to replace") {
    auto op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.flags = CREDGATE_SHIM_F_OWNER;
    op.uid = 1000;
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_CREATE);
    op.flags = CREDGATE_SHIM_F_OWNER;
    op.uid = CREDGATE_SHIM_UID_INVALID;
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_CREATE);
    op.uid = 1000;  // without the flag
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_CREATE);
    op.content_len = 4;
    CHECK(parse(op, sizeof(op) + 4) == -EINVAL);
}

TEST_CASE("names that could escape or hide are refused: '..', '.', '/', empty, hidden, too long") {
    CHECK(parse_replace_of("..") == -EINVAL);
    CHECK(parse_replace_of(".") == -EINVAL);
    CHECK(parse_replace_of("a/b") == -EINVAL);
    CHECK(parse_replace_of("/") == -EINVAL);
    CHECK(parse_replace_of("") == -EINVAL);
    CHECK(parse_replace_of(".vault.json") == -EINVAL);
    CHECK(parse_replace_of("-rf") == -EINVAL);
    CHECK(parse_replace_of("vault json") == -EINVAL);
    CHECK(parse_replace_of("vault\njson") == -EINVAL);
    CHECK(parse_replace_of(std::string(CREDGATE_SHIM_NAME_MAX, 'a').c_str()) == 0);

    auto op = make_op(CREDGATE_SHIM_OP_REMOVE);
    std::memset(op.file, 'a', sizeof(op.file));
    CHECK(parse(op, sizeof(op)) == -ENAMETOOLONG);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.dir[sizeof(op.dir) - 1] = 'x';  // bytes after the NUL
    CHECK(parse(op, sizeof(op)) == -EINVAL);
}

TEST_CASE("the workload directory must be a lowercase canonical UUID") {
    auto op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.uuid[0] = 'A';
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.uuid[8] = '0';
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    op.uuid[35] = 0;
    CHECK(parse(op, sizeof(op)) == -EINVAL);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    std::memset(op.uuid, 'a', sizeof(op.uuid));
    CHECK(parse(op, sizeof(op)) == -ENAMETOOLONG);
    op = make_op(CREDGATE_SHIM_OP_REMOVE);
    std::memcpy(op.uuid, "../../../../../../../../../../../../", 36);
    CHECK(parse(op, sizeof(op)) == -EINVAL);
}
