// SPDX-License-Identifier: Apache-2.0
// The sysfs sink against a stand-in for credgate.ko: each operation it writes is checked with the
// module's own parser, and the order create -> before_content -> replace is observed.
#include "delivery/sysfs_sink.hpp"

#include "credgate_parse.h"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace credgate;
using namespace credgate::delivery;

namespace {

constexpr const char* kUuid = "6f1c2b1e-8d3a-5b7c-9e0f-1a2b3c4d5e6f";

struct Op {
    unsigned opcode;
    unsigned owner;
    uint32_t uid;
    std::string dir, file, content;
};

// Every operation appended to the stand-in control file, each validated as the module would.
std::vector<Op> recorded(const std::filesystem::path& control) {
    std::ifstream in(control, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string all = ss.str();
    std::vector<Op> ops;
    size_t at = 0;
    while (at < all.size()) {
        REQUIRE(all.size() - at >= sizeof(credgate_shim_op));
        credgate_shim_op op{};
        std::memcpy(&op, all.data() + at, sizeof(op));
        const size_t count = sizeof(op) + op.content_len;
        credgate_parsed_op p{};
        REQUIRE(credgate_parse_op(&op, count, &p) == 0);
        ops.push_back({p.opcode, p.owner, p.uid, p.dir, p.file, all.substr(at + sizeof(op), op.content_len)});
        at += count;
    }
    return ops;
}

}  // namespace

TEST_CASE("the sysfs sink is unsupported, naming modprobe, when the module is not loaded") {
    TempDir tmp;
    auto sink = SysfsSink::create({.root = (tmp.path() / "missing").string(), .control = "/dev/null", .hooks = {}});
    REQUIRE_FALSE(sink);
    CHECK(sink.error().kind == ErrorKind::unsupported);
    CHECK(sink.error().message.find("modprobe credgate") != std::string::npos);
}

TEST_CASE("a new sysfs credential is created empty with its owner, registered, then given content") {
    TempDir tmp;
    const auto root = tmp.path() / "credentials";
    const auto control = tmp.path() / "control";
    const auto node_dir = root / kUuid / "crb-openai";
    std::filesystem::create_directories(node_dir);
    std::ofstream(node_dir / "vault.json").close();  // what CREATE makes in the module
    ::chmod((node_dir / "vault.json").c_str(), 0400);
    std::ofstream(control).close();

    std::vector<std::string> events;
    Hooks hooks;
    hooks.before_content = [&](const Target&, FileId id) -> Result<void> {
        events.push_back("register " + std::to_string(recorded(control).size()));
        CHECK(id.inode != 0);
        return {};
    };
    const Target target{kUuid, "openai", "vault.json"};

    SUBCASE("publish") {
        auto sink = SysfsSink::create({.root = root.string(), .control = control.string(), .hooks = hooks});
        REQUIRE(sink);
        // The stand-in is the test uid's, 0400: what CREATE with that owner would have made.
        auto published = (*sink)->publish(target, R"({"key":"k"})", Ownership{::getuid()});
        REQUIRE(published);
        CHECK(published->path == (node_dir / "vault.json").string());
        const auto ops = recorded(control);
        // The node (left by a previous credgated) matched its owner: it is kept, registered once
        // before it gets content, and only its content is replaced.
        REQUIRE(ops.size() == 1);
        CHECK(ops[0].opcode == CREDGATE_SHIM_OP_REPLACE);
        CHECK(ops[0].content == R"({"key":"k"})");
        REQUIRE(events.size() == 1);
        CHECK(events[0] == "register 0");
        // A later publish of the same node needs no new registration.
        REQUIRE((*sink)->publish(target, "v2", Ownership{::getuid()}));
        CHECK(recorded(control).size() == 2);
        CHECK(events.size() == 1);
    }
    SUBCASE("another owner: removed and created again, registered before content") {
        auto sink = SysfsSink::create({.root = root.string(), .control = control.string(), .hooks = hooks});
        REQUIRE(sink);
        auto published = (*sink)->publish(target, "v2", Ownership{::getuid() + 1});
        REQUIRE(published);
        const auto ops = recorded(control);
        REQUIRE(ops.size() == 3);
        CHECK(ops[0].opcode == CREDGATE_SHIM_OP_REMOVE);
        CHECK(ops[1].opcode == CREDGATE_SHIM_OP_CREATE);
        CHECK(ops[1].owner == 1);
        CHECK(ops[1].uid == ::getuid() + 1);
        CHECK(ops[1].dir == "crb-openai");
        CHECK(ops[2].opcode == CREDGATE_SHIM_OP_REPLACE);
        CHECK(ops[2].content == "v2");
        REQUIRE(events.size() == 1);
        CHECK(events[0] == "register 2");  // after CREATE, before REPLACE
    }
}

TEST_CASE("the sysfs sink lists the files the module holds, a previous credgated's included") {
    TempDir tmp;
    const auto root = tmp.path() / "credentials";
    std::filesystem::create_directories(root / kUuid / "crb-openai");
    std::filesystem::create_directories(root / kUuid / "not-a-binding");
    std::ofstream(root / kUuid / "crb-openai" / "vault.json").close();
    std::ofstream(root / kUuid / "not-a-binding" / "x.json").close();
    auto sink = SysfsSink::create({.root = root.string(), .control = "/dev/null", .hooks = {}});
    REQUIRE(sink);
    auto files = (*sink)->list();
    REQUIRE(files);
    REQUIRE(files->size() == 1);
    CHECK((*files)[0].first.binding == "openai");
    CHECK((*files)[0].first.file_name == "vault.json");
    struct stat st {};
    REQUIRE(::stat((root / kUuid / "crb-openai" / "vault.json").c_str(), &st) == 0);
    CHECK((*files)[0].second.inode == st.st_ino);
}

TEST_CASE("a failed registration removes the empty sysfs node and writes no content") {
    TempDir tmp;
    const auto root = tmp.path() / "credentials";
    const auto control = tmp.path() / "control";
    std::filesystem::create_directories(root / kUuid / "crb-openai");
    std::ofstream(root / kUuid / "crb-openai" / "vault.json").close();
    std::ofstream(control).close();
    Hooks hooks;
    hooks.before_content = [](const Target&, FileId) -> Result<void> {
        return fail(ErrorKind::permission, "enforce: refused");
    };
    auto sink = SysfsSink::create({.root = root.string(), .control = control.string(), .hooks = hooks});
    REQUIRE(sink);
    auto published = (*sink)->publish({kUuid, "openai", "vault.json"}, "secret", Ownership{::getuid() + 1});
    REQUIRE_FALSE(published);
    const auto ops = recorded(control);
    REQUIRE(ops.size() == 3);
    CHECK(ops[1].opcode == CREDGATE_SHIM_OP_CREATE);
    CHECK(ops[2].opcode == CREDGATE_SHIM_OP_REMOVE);
    for (const auto& op : ops) CHECK(op.content.empty());
}

// /dev/full refuses every write with ENOSPC, as credgate.ko refuses a CREATE once it holds max_files.
TEST_CASE("a CREATE refused for space names the module's bound on files and its parameter") {
    TempDir tmp;
    const auto module = tmp.path() / "credgate";
    const auto root = module / "credentials";
    std::filesystem::create_directories(root);
    const Target target{kUuid, "openai", "vault.json"};
    const std::string node = (root / kUuid / "crb-openai" / "vault.json").string();
    bool registered = false;
    Hooks hooks;
    hooks.before_content = [&](const Target&, FileId) -> Result<void> {
        registered = true;
        return {};
    };
    auto sink = SysfsSink::create({.root = root.string(), .control = "/dev/full", .hooks = hooks});
    REQUIRE(sink);

    SUBCASE("the parameter is read for the bound") {
        std::filesystem::create_directories(module / "parameters");
        std::ofstream(module / "parameters" / "max_files") << "1\n";
        auto published = (*sink)->publish(target, "secret", Ownership{});
        REQUIRE_FALSE(published);
        CHECK(published.error().message ==
              "cannot create '" + node + "': No space left on device (credgate.ko holds at most 1 file: " +
                  (module / "parameters" / "max_files").string() + ")");
    }
    SUBCASE("several files") {
        std::filesystem::create_directories(module / "parameters");
        std::ofstream(module / "parameters" / "max_files") << "64\n";
        auto published = (*sink)->publish(target, "secret", Ownership{});
        REQUIRE_FALSE(published);
        CHECK(published.error().message.ends_with("(credgate.ko holds at most 64 files: " +
                                                  (module / "parameters" / "max_files").string() + ")"));
    }
    SUBCASE("a module without the parameter holds the ABI's bound") {
        auto published = (*sink)->publish(target, "secret", Ownership{});
        REQUIRE_FALSE(published);
        CHECK(published.error().message ==
              "cannot create '" + node + "': No space left on device (credgate.ko holds at most 4096 files)");
    }
    SUBCASE("an unreadable value is not shown as a bound") {
        std::filesystem::create_directories(module / "parameters");
        std::ofstream(module / "parameters" / "max_files") << "many\n";
        auto published = (*sink)->publish(target, "secret", Ownership{});
        REQUIRE_FALSE(published);
        CHECK(published.error().message.ends_with("(credgate.ko holds at most 4096 files)"));
    }
    CHECK_FALSE(registered);
}

TEST_CASE("a refused REPLACE of an existing node keeps the plain system error") {
    TempDir tmp;
    const auto root = tmp.path() / "credgate" / "credentials";
    std::filesystem::create_directories(root / kUuid / "crb-openai");
    std::filesystem::create_directories(tmp.path() / "credgate" / "parameters");
    std::ofstream(tmp.path() / "credgate" / "parameters" / "max_files") << "1\n";
    std::ofstream(root / kUuid / "crb-openai" / "vault.json").close();
    ::chmod((root / kUuid / "crb-openai" / "vault.json").c_str(), 0400);
    auto sink = SysfsSink::create({.root = root.string(), .control = "/dev/full", .hooks = {}});
    REQUIRE(sink);
    auto published = (*sink)->publish({kUuid, "openai", "vault.json"}, "secret", Ownership{::getuid()});
    REQUIRE_FALSE(published);
    CHECK(published.error().message == "cannot replace '" +
                                           (root / kUuid / "crb-openai" / "vault.json").string() +
                                           "': No space left on device");
}
