// SPDX-License-Identifier: Apache-2.0
// `credgatectl convert [-o DIR] FILE...`: core.riptides.io/v1alpha1 objects to credgate.io/v1alpha1
// YAML on stdout (or one file per input in DIR), warnings and flagged items on stderr.
#include "cli/convert_render.hpp"
#include "cli/subcommand.hpp"
#include "common/fd.hpp"
#include "policy/seed_import.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace credgate::cli {
namespace {

namespace fs = std::filesystem;

struct ConvertOptions {
    std::vector<std::string> files;
    std::string output_dir;  // empty: stdout
};

struct Converted {
    std::string input;
    std::string text;
};

// Writes a new file; an existing one (perhaps already edited by hand) is never replaced.
Result<void> write_new_file(const fs::path& path, const std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        int e = errno;
        return fail(ErrorKind::invalid_argument,
                    e == EEXIST ? fmt::format("'{}' exists; remove it or choose another -o DIR", path.string())
                                : fmt::format("cannot create '{}': {}", path.string(), std::strerror(e)));
    }
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(ErrorKind::invalid_argument,
                               fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd.release()) != 0)
        return fail(ErrorKind::invalid_argument, fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
    return {};
}

// Every output path in DIR, or why the set cannot be written (before anything is).
Result<std::vector<fs::path>> output_paths(const ConvertOptions& o) {
    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec) return fail(ErrorKind::invalid_argument, fmt::format("cannot create '{}': {}", o.output_dir, ec.message()));
    std::vector<fs::path> out;
    std::map<std::string, std::string> seen;  // file name -> the input that claimed it
    for (const auto& in : o.files) {
        fs::path target = fs::path(o.output_dir) / fs::path(in).filename();
        auto [it, fresh] = seen.emplace(target.filename().string(), in);
        if (!fresh)
            return fail(ErrorKind::invalid_argument,
                        fmt::format("'{}' and '{}' would both be written to '{}'", it->second, in, target.string()));
        if (fs::equivalent(in, target, ec))
            return fail(ErrorKind::invalid_argument,
                        fmt::format("'{}' would replace its own input; choose another -o DIR", target.string()));
        if (fs::exists(fs::symlink_status(target, ec)))
            return fail(ErrorKind::invalid_argument,
                        fmt::format("'{}' exists; remove it or choose another -o DIR", target.string()));
        out.push_back(std::move(target));
    }
    return out;
}

int run_convert(const ConvertOptions& o) {
    constexpr const char* kName = "credgatectl convert";
    // Every file is read and converted before anything is printed or written: all or nothing.
    std::vector<Converted> converted;
    std::size_t objects = 0, attention = 0, warnings = 0;
    bool unreadable = false;
    for (const auto& file : o.files) {
        auto result = policy::convert_seed_file(file);
        if (!result) {
            for (const auto& d : result.error()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
            unreadable = true;
            continue;
        }
        for (const auto& obj : *result) {
            objects += obj.document ? 1 : 0;
            for (const auto& n : obj.notes) {
                if (n.kind == policy::NoteKind::changed) continue;
                (n.kind == policy::NoteKind::attention ? attention : warnings) += 1;
                policy::Diagnostic d = n.finding;
                if (n.kind == policy::NoteKind::attention) d.message = "needs attention: " + d.message;
                std::fprintf(stderr, "%s\n", d.to_string().c_str());
            }
        }
        auto text = render_converted(*result, file);
        if (!text) {
            std::fprintf(stderr, "%s: %s: %s\n", kName, file.c_str(), text.error().message.c_str());
            return kExitUsage;
        }
        converted.push_back({file, std::move(*text)});
    }
    if (unreadable) {
        std::fprintf(stderr, "%s: nothing converted: every FILE must be readable YAML holding objects "
                             "(apiVersion, kind, metadata, spec)\n", kName);
        return kExitUsage;
    }

    std::vector<fs::path> targets;
    if (!o.output_dir.empty()) {
        auto paths = output_paths(o);
        if (!paths) {
            std::fprintf(stderr, "%s: nothing written: %s\n", kName, paths.error().message.c_str());
            return kExitUsage;
        }
        targets = std::move(*paths);
    }
    for (std::size_t i = 0; i < converted.size(); ++i) {
        if (targets.empty()) {
            std::fputs(((i > 0 ? "---\n" : "") + converted[i].text).c_str(), stdout);
            continue;
        }
        if (auto w = write_new_file(targets[i], converted[i].text); !w) {
            std::fprintf(stderr, "%s: %s\n", kName, w.error().message.c_str());
            return kExitUsage;
        }
    }
    std::fflush(stdout);

    std::string where = targets.empty() ? std::string("printed") : fmt::format("written to {}", o.output_dir);
    std::fprintf(stderr, "%s: %zu %s from %zu %s %s; %zu %s attention, %zu %s\n", kName, objects,
                 objects == 1 ? "object" : "objects", o.files.size(), o.files.size() == 1 ? "file" : "files",
                 where.c_str(), attention, attention == 1 ? "item needs" : "items need", warnings,
                 warnings == 1 ? "warning" : "warnings");
    if (attention > 0)
        std::fprintf(stderr, "%s: edit the items marked NEEDS ATTENTION, then check the result with "
                             "'credgatectl validate'\n", kName);
    return attention > 0 ? kExitFailure : kExitOk;
}

}  // namespace

Subcommand add_convert(CLI::App& parent) {
    auto opts = std::make_shared<ConvertOptions>();
    CLI::App* app = parent.add_subcommand(
        "convert", fmt::format("Convert {} objects to {} YAML, with a comment on every change",
                               policy::kSeedApiVersion, policy::kApiVersion));
    app->add_option("files", opts->files, "YAML files of WorkloadIdentity, CredentialSource, CredentialBinding "
                                          "and Service objects")
        ->required()
        ->type_name("FILE");
    app->add_option("-o,--output-dir", opts->output_dir,
                    "write DIR/<name of FILE> for each FILE instead of printing; never replaces an existing file")
        ->type_name("DIR");
    app->footer(
        "Fields with no credgate equivalent are dropped with a comment and a warning on stderr.\n"
        "Exit status:\n"
        "  0  converted; nothing needs attention\n"
        "  1  converted, but items marked NEEDS ATTENTION (e.g. a process:name-only selector) must be\n"
        "     edited before credgate accepts or should trust them\n"
        "  2  usage error, a FILE that cannot be read or is not YAML objects, or an output that cannot\n"
        "     be written (then nothing is printed or written)");
    return Subcommand{app, [opts] { return run_convert(*opts); }};
}

}  // namespace credgate::cli
