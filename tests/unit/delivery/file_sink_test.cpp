// SPDX-License-Identifier: Apache-2.0
// The file sink replaces files atomically, registers inodes before content, cleans up on removal
// and keeps every name inside its root.
#include "delivery/file_sink.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace credgate;
using namespace credgate::delivery;
namespace fs = std::filesystem;

namespace {

constexpr const char* kUuid = "2e08019a-a435-55e3-9ba7-f01c09b9fc2b";
const Ownership kShared{};  // no uid pinned: root's, 0644

Target target(std::string file = "vault.json", std::string binding = "vault-openai-apikeys-binding") {
    return Target{kUuid, std::move(binding), std::move(file)};
}

std::unique_ptr<FileSink> make_sink(const TempDir& dir, Hooks hooks = {}) {
    FileSinkOptions o;
    o.root = (dir.path() / "credentials").string();
    o.hooks = std::move(hooks);
    auto s = FileSink::create(std::move(o));
    REQUIRE(s);
    return std::move(*s);
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

size_t entries(const fs::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

TEST_CASE("publishes at <root>/<uuid>/crb-<binding>/<file> with the documented modes") {
    TempDir dir;
    auto sink = make_sink(dir);
    auto p = sink->publish(target(), R"({"api_key":"sk-1"})", kShared);
    REQUIRE(p);
    const fs::path expected =
        dir.path() / "credentials" / kUuid / "crb-vault-openai-apikeys-binding" / "vault.json";
    CHECK(p->path == expected.string());
    CHECK(sink->path_of(target()) == expected.string());
    CHECK(slurp(expected) == R"({"api_key":"sk-1"})");
    CHECK(mode_of(expected) == 0644);
    CHECK(mode_of(expected.parent_path()) == 0755);
    CHECK(mode_of(expected.parent_path().parent_path()) == 0755);
    CHECK(mode_of(dir.path() / "credentials") == 0711);
    struct stat st {};
    REQUIRE(::stat(expected.c_str(), &st) == 0);
    CHECK(p->id == FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    CHECK(entries(expected.parent_path()) == 1);  // no temp file left behind
}

TEST_CASE("a reader never sees partial or missing content while the file is replaced 1000 times") {
    TempDir dir;
    auto sink = make_sink(dir);
    const std::string a(64 * 1024, 'a');
    const std::string b(96 * 1024, 'b');
    REQUIRE(sink->publish(target(), a, kShared));
    const std::string path = sink->path_of(target());

    std::atomic<bool> done{false};
    std::atomic<long> reads{0}, bad{0}, missing{0};
    std::thread reader([&] {
        std::string buf(256 * 1024, '\0');
        while (!done.load()) {
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                ++missing;
                continue;
            }
            size_t total = 0;
            ssize_t n;
            while ((n = ::read(fd, buf.data() + total, buf.size() - total)) > 0) total += static_cast<size_t>(n);
            ::close(fd);
            const std::string_view got(buf.data(), total);
            if (got != a && got != b) ++bad;
            ++reads;
        }
    });
    bool ok = true;
    for (int i = 0; i < 1000 && ok; ++i) ok = sink->publish(target(), i % 2 ? a : b, kShared).has_value();
    // Let the reader make progress even on a loaded machine, then stop it.
    while (reads.load() < 200) std::this_thread::yield();
    done = true;
    reader.join();
    CHECK(ok);
    CHECK(bad.load() == 0);
    CHECK(missing.load() == 0);
    CHECK(reads.load() >= 200);
    CHECK(entries(fs::path(path).parent_path()) == 1);
}

TEST_CASE("the hook sees the new inode while it is empty and not yet at its final name") {
    TempDir dir;
    std::string seen_path;
    bool checked = false;
    Hooks hooks;
    std::unique_ptr<FileSink>* sink_ref = nullptr;
    hooks.before_content = [&](const Target& t, FileId id) -> Result<void> {
        const fs::path final_path = (*sink_ref)->path_of(t);
        // Find the inode among the binding directory's entries.
        for (const auto& e : fs::directory_iterator(final_path.parent_path())) {
            struct stat st {};
            REQUIRE(::lstat(e.path().c_str(), &st) == 0);
            if (st.st_ino == id.inode && static_cast<uint64_t>(st.st_dev) == id.device) {
                CHECK(st.st_size == 0);
                CHECK(e.path() != final_path);
                checked = true;
            }
        }
        if (fs::exists(final_path)) CHECK(slurp(final_path) == "old");
        return {};
    };
    auto sink = make_sink(dir, hooks);
    sink_ref = &sink;
    REQUIRE(sink->publish(target(), "old", kShared));
    CHECK(checked);
    checked = false;
    REQUIRE(sink->publish(target(), "new", kShared));
    CHECK(checked);
    CHECK(slurp(sink->path_of(target())) == "new");
}

TEST_CASE("a failing hook publishes nothing and keeps the previous file") {
    TempDir dir;
    bool refuse = false;
    Hooks hooks;
    hooks.before_content = [&](const Target&, FileId) -> Result<void> {
        if (refuse) return fail(ErrorKind::unavailable, "map full");
        return {};
    };
    auto sink = make_sink(dir, hooks);
    refuse = true;
    auto r = sink->publish(target(), "secret", kShared);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("map full") != std::string::npos);
    const fs::path path = sink->path_of(target());
    CHECK_FALSE(fs::exists(path));
    CHECK(entries(path.parent_path()) == 0);

    refuse = false;
    REQUIRE(sink->publish(target(), "v1", kShared));
    refuse = true;
    REQUIRE_FALSE(sink->publish(target(), "v2", kShared));
    CHECK(slurp(path) == "v1");
    CHECK(entries(path.parent_path()) == 1);
}

TEST_CASE("the retire hook gets the replaced inode, and every inode on removal") {
    TempDir dir;
    std::vector<FileId> retired;
    Hooks hooks;
    hooks.after_retire = [&](const Target&, FileId id) { retired.push_back(id); };
    auto sink = make_sink(dir, hooks);
    auto first = sink->publish(target(), "1", kShared);
    REQUIRE(first);
    auto second = sink->publish(target(), "2", kShared);
    REQUIRE(second);
    REQUIRE(retired.size() == 1);
    CHECK(retired[0] == first->id);
    REQUIRE(sink->remove(kUuid, "vault-openai-apikeys-binding"));
    REQUIRE(retired.size() == 2);
    CHECK(retired[1] == second->id);
}

TEST_CASE("removal deletes the files, then the binding directory, then an empty workload directory") {
    TempDir dir;
    auto sink = make_sink(dir);
    REQUIRE(sink->publish(target("vault.json", "one"), "a", kShared));
    REQUIRE(sink->publish(target("key.txt", "one"), "b", kShared));
    REQUIRE(sink->publish(target("vault.json", "two"), "c", kShared));
    const fs::path uuid_dir = dir.path() / "credentials" / kUuid;

    REQUIRE(sink->remove(kUuid, "one"));
    CHECK_FALSE(fs::exists(uuid_dir / "crb-one"));
    CHECK(fs::exists(uuid_dir / "crb-two" / "vault.json"));

    REQUIRE(sink->remove(kUuid, "two"));
    CHECK_FALSE(fs::exists(uuid_dir));
    CHECK(fs::exists(dir.path() / "credentials"));
    // Removing again is not an error.
    CHECK(sink->remove(kUuid, "two"));
}

TEST_CASE("a new sink lists the files a previous one left, temp files included, and removes them one by one") {
    TempDir dir;
    Published kept, gone;
    {
        auto previous = make_sink(dir);
        auto a = previous->publish(target("vault.json", "kept"), "a", kShared);
        auto b = previous->publish(target("vault.json", "gone"), "b", kShared);
        REQUIRE(a);
        REQUIRE(b);
        kept = *a;
        gone = *b;
    }
    const fs::path uuid_dir = dir.path() / "credentials" / kUuid;
    std::ofstream(uuid_dir / "crb-kept" / ".tmp-vault.json-7-1") << "{";
    fs::create_directory(uuid_dir / "crb-kept" / "not-a-file");
    fs::create_symlink("/etc/passwd", uuid_dir / "crb-kept" / "link");

    std::vector<FileId> retired;
    Hooks hooks;
    hooks.after_retire = [&](const Target&, FileId id) { retired.push_back(id); };
    auto sink = make_sink(dir, hooks);
    auto files = sink->list();
    REQUIRE(files);
    std::map<std::string, FileId> by_name;
    for (const auto& [t, id] : *files) by_name[t.binding + "/" + t.file_name] = id;
    CHECK(by_name.size() == 3);  // neither the directory nor the symlink
    CHECK(by_name["kept/vault.json"] == FileId{kept.id.device, kept.id.inode});
    CHECK(by_name["gone/vault.json"] == FileId{gone.id.device, gone.id.inode});
    CHECK(by_name.contains("kept/.tmp-vault.json-7-1"));

    REQUIRE(sink->remove_file(target(".tmp-vault.json-7-1", "kept")));
    CHECK(fs::exists(uuid_dir / "crb-kept" / "vault.json"));  // the directory still has files: it stays
    REQUIRE(sink->remove_file(target("vault.json", "gone")));
    CHECK_FALSE(fs::exists(uuid_dir / "crb-gone"));  // its last file went: so does the directory
    REQUIRE(retired.size() == 2);
    CHECK(retired[1] == FileId{gone.id.device, gone.id.inode});
    CHECK(sink->remove_file(target("vault.json", "gone")));  // again: nothing to do
    CHECK_FALSE(sink->remove_file(target("../escape", "kept")));
}

TEST_CASE("names cannot escape the root") {
    TempDir dir;
    auto sink = make_sink(dir);
    for (const char* bad : {"", ".", "..", "../x", "a/b", ".hidden", ".tmp-vault.json-1-1", "x\n", "a b"}) {
        CAPTURE(bad);
        CHECK_FALSE(sink->publish(target(bad), "s", kShared));
        CHECK_FALSE(sink->publish(target("f", bad), "s", kShared));
    }
    for (const char* bad_uuid : {"../../etc", "2E08019A-A435-55E3-9BA7-F01C09B9FC2B", "2e08019a-a435-55e3-9ba7",
                                 "2e08019a/a435-55e3-9ba7-f01c09b9fc2b"}) {
        CAPTURE(bad_uuid);
        CHECK_FALSE(sink->publish(Target{bad_uuid, "b", "f"}, "s", kShared));
        CHECK_FALSE(sink->remove(bad_uuid, "b"));
    }
    CHECK_FALSE(sink->publish(target(std::string(201, 'a')), "s", kShared));
    CHECK(entries(dir.path() / "credentials") == 0);
}

TEST_CASE("a symlink planted in place of a directory is not followed") {
    TempDir dir;
    auto sink = make_sink(dir);
    const fs::path outside = dir.path() / "outside";
    fs::create_directory(outside);
    fs::create_directory(dir.path() / "credentials" / kUuid);
    fs::create_directory_symlink(outside, dir.path() / "credentials" / kUuid / "crb-evil");
    auto r = sink->publish(target("vault.json", "evil"), "secret", kShared);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("crb-evil") != std::string::npos);
    CHECK(entries(outside) == 0);
}

TEST_CASE("a file larger than the limit is refused") {
    TempDir dir;
    FileSinkOptions o;
    o.root = (dir.path() / "c").string();
    o.max_file_bytes = 10;
    auto sink = FileSink::create(o);
    REQUIRE(sink);
    CHECK_FALSE((*sink)->publish(target(), std::string(11, 'x'), kShared));
    CHECK((*sink)->publish(target(), std::string(10, 'x'), kShared));
}

TEST_CASE("a relative root or a root that is a file is refused") {
    TempDir dir;
    FileSinkOptions o;
    o.root = "relative/credentials";
    CHECK_FALSE(FileSink::create(o));
    std::ofstream(dir.path() / "file") << "x";
    o.root = (dir.path() / "file").string();
    auto r = FileSink::create(o);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("not a directory") != std::string::npos);
}

// ---- ownership: the second layer under the kernel programs ----------------------------------

namespace {

// Another uid than ours when we may give files away (root), else our own.
uint32_t some_owner() {
    return ::geteuid() == 0 ? 65534u : static_cast<uint32_t>(::geteuid());
}

struct Owner {
    uid_t uid;
    mode_t mode;
};

Owner owner_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return {st.st_uid, st.st_mode & 07777};
}

// The order in which a new (temp-named) file in `dir` had its attributes changed (chmod, chown)
// and its content written, as inotify reported it: "attrib" and "modify", repeats folded.
class ChangeOrder {
public:
    explicit ChangeOrder(const fs::path& dir) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
        REQUIRE(fd_ >= 0);
        REQUIRE(::inotify_add_watch(fd_, dir.c_str(), IN_ATTRIB | IN_MODIFY) >= 0);
    }
    ~ChangeOrder() { ::close(fd_); }
    std::vector<std::string> read() {
        std::vector<std::string> out;
        alignas(inotify_event) char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            for (ssize_t off = 0; off < n;) {
                const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
                off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
                // Only the new file, while it still has its temp name: the content goes in there.
                if (e->len == 0 || !std::string_view(e->name).starts_with(".tmp-")) continue;
                const std::string what = (e->mask & IN_ATTRIB) ? "attrib" : "modify";
                if (out.empty() || out.back() != what) out.push_back(what);
            }
        }
        return out;
    }

private:
    int fd_;
};

}  // namespace

TEST_CASE("a file whose identity pins a uid belongs to that uid with mode 0400, under root's 0755 directories") {
    TempDir dir;
    auto sink = make_sink(dir);
    const uint32_t uid = some_owner();
    auto p = sink->publish(target(), R"({"api_key":"sk-1"})", Ownership{uid});
    REQUIRE(p);
    const fs::path path = sink->path_of(target());
    CHECK(owner_of(path).uid == uid);
    CHECK(owner_of(path).mode == 0400);
    CHECK(p->uid == uid);
    CHECK(p->mode == 0400);
    CHECK(owner_of(path.parent_path()).uid == ::geteuid());
    CHECK(owner_of(path.parent_path()).mode == 0755);
    CHECK(owner_of(path.parent_path().parent_path()).mode == 0755);
    CHECK(slurp(path) == R"({"api_key":"sk-1"})");
    // A file without a pinned uid stays root's and 0644, in the same tree.
    auto shared = sink->publish(target("other.json"), "x", kShared);
    REQUIRE(shared);
    CHECK(owner_of(sink->path_of(target("other.json"))).mode == 0644);
    CHECK(owner_of(sink->path_of(target("other.json"))).uid == ::geteuid());
    CHECK(shared->mode == 0644);
}

TEST_CASE("an owned file gets its owner and mode while still empty, a shared one its mode only when complete") {
    TempDir dir;
    auto sink = make_sink(dir);
    REQUIRE(sink->publish(target(), "first", kShared));  // creates the directories to watch
    const fs::path binding_dir = fs::path(sink->path_of(target())).parent_path();
    {
        ChangeOrder changes(binding_dir);
        REQUIRE(sink->publish(target(), "secret", Ownership{some_owner()}));
        CHECK(changes.read() == std::vector<std::string>{"attrib", "modify"});
    }
    {
        ChangeOrder changes(binding_dir);
        REQUIRE(sink->publish(target(), "secret", kShared));
        CHECK(changes.read() == std::vector<std::string>{"modify", "attrib"});
    }
}

TEST_CASE("the published files together stay under the byte limit, and a clear error says when one would not") {
    TempDir dir;
    FileSinkOptions o;
    o.root = (dir.path() / "c").string();
    o.max_total_bytes = 20;
    auto made = FileSink::create(o);
    REQUIRE(made);
    auto& sink = *made;
    REQUIRE(sink->publish(target("a.json", "one"), std::string(10, 'a'), kShared));
    REQUIRE(sink->publish(target("b.json", "two"), std::string(10, 'b'), kShared));
    CHECK(sink->published_bytes() == 20);
    auto refused = sink->publish(target("c.json", "three"), "c", kShared);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("above credgated's limit of 20 bytes in all") != std::string::npos);
    CHECK_FALSE(fs::exists(sink->path_of(target("c.json", "three"))));
    // Replacing a file counts only the difference.
    CHECK(sink->publish(target("a.json", "one"), std::string(10, 'A'), kShared));
    CHECK_FALSE(sink->publish(target("a.json", "one"), std::string(11, 'A'), kShared));
    // Removing a binding gives its bytes back.
    REQUIRE(sink->remove(kUuid, "two"));
    CHECK(sink->published_bytes() == 10);
    CHECK(sink->publish(target("c.json", "three"), std::string(10, 'c'), kShared));
}
