// SPDX-License-Identifier: Apache-2.0
// The daemon's single event loop: one io_context behind a pimpl, a real-time Clock whose timers run
// on it, posted callbacks, signal handlers and readiness of other descriptors (inotify). Every
// client, server and timer shares this loop.
#pragma once

#include "common/clock.hpp"

#include <functional>
#include <memory>

namespace credgate::runtime {

namespace detail {
struct EventLoopAccess;
}

// Keeps a readiness callback installed; destroying it removes the callback (never called after).
class FdWatch {
public:
    virtual ~FdWatch() = default;
};

class EventLoop {
public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Runs handlers until stop() is called or no work is left. Returns the number of handlers run.
    size_t run();
    // Runs handlers until `done()` is true, stop() is called, or no work is left; for tests and
    // synchronous helpers that wait for one outcome without sleeping.
    void run_until(const std::function<bool()>& done);
    // Makes run() and run_until() return as soon as possible, and keeps them returning until restart();
    // safe to call from a handler or a signal callback.
    void stop();
    bool stopped() const;
    // Clears the stopped state so run() can be called again.
    void restart();

    // Queues `fn` to run on the loop (never inline).
    void post(std::function<void()> fn);

    // Real wall-clock time; timers are steady timers armed for (when - now()).
    Clock& clock();

    // Calls `fn(signo)` on the loop each time `signo` (SIGHUP, SIGTERM, SIGINT, ...) is delivered.
    // The handler stays installed for the loop's lifetime. Returns false if the signal cannot be
    // registered (then errno-like text is logged).
    bool on_signal(int signo, std::function<void(int)> fn);

    // Calls `fn()` on the loop each time `fd` is readable, until the returned watch is destroyed.
    // `fn` must drain what is readable (or the next wait completes at once). The caller keeps owning
    // `fd` and closes it after destroying the watch.
    std::unique_ptr<FdWatch> watch_readable(int fd, std::function<void()> fn);

private:
    friend struct detail::EventLoopAccess;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace credgate::runtime
