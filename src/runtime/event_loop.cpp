// SPDX-License-Identifier: Apache-2.0
// EventLoop over one boost::asio::io_context: real-time Clock on steady timers, posted work, signals,
// descriptor readiness.
#include "runtime/event_loop.hpp"

#include "common/log.hpp"
#include "runtime/detail/io_context.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <vector>

namespace credgate::runtime {
namespace net = boost::asio;

namespace {

// One armed wait; the generation number makes a cancelled or re-armed wait a no-op even when its
// completion was already queued.
class SteadyTimer final : public Timer {
public:
    explicit SteadyTimer(net::io_context& io) : state_(std::make_shared<State>(io)) {}
    ~SteadyTimer() override { cancel(); }

    void arm(TimePoint when, std::function<void()> callback) override {
        cancel();
        auto now = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
        auto wait = when > now ? when - now : Duration::zero();
        state_->callback = std::move(callback);
        uint64_t generation = ++state_->generation;
        state_->timer.expires_after(wait);
        std::weak_ptr<State> weak = state_;
        state_->timer.async_wait([weak, generation](const boost::system::error_code& ec) {
            auto state = weak.lock();
            if (!state || ec || state->generation != generation) return;
            auto cb = std::move(state->callback);
            state->callback = nullptr;
            if (cb) cb();
        });
    }

    void cancel() override {
        ++state_->generation;
        state_->callback = nullptr;
        state_->timer.cancel();
    }

private:
    struct State {
        explicit State(net::io_context& io) : timer(io) {}
        net::steady_timer timer;
        uint64_t generation = 0;
        std::function<void()> callback;
    };
    std::shared_ptr<State> state_;
};

class RealClock final : public Clock {
public:
    explicit RealClock(net::io_context& io) : io_(io) {}
    TimePoint now() const override {
        return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
    }
    std::unique_ptr<Timer> make_timer() override { return std::make_unique<SteadyTimer>(io_); }

private:
    net::io_context& io_;
};

// Waits for readiness only (no reads through Asio); the descriptor is released, never closed.
class ReadableWatch final : public FdWatch {
public:
    ReadableWatch(net::io_context& io, int fd, std::function<void()> fn)
        : state_(std::make_shared<State>(io, fd, std::move(fn))) {
        wait(state_);
    }
    ~ReadableWatch() override {
        state_->active = false;
        boost::system::error_code ignored;
        state_->descriptor.cancel(ignored);
        state_->descriptor.release();
    }

private:
    struct State {
        State(net::io_context& io, int fd, std::function<void()> f) : descriptor(io, fd), fn(std::move(f)) {}
        net::posix::stream_descriptor descriptor;
        std::function<void()> fn;
        bool active = true;
    };
    static void wait(const std::shared_ptr<State>& state) {
        std::weak_ptr<State> weak = state;
        state->descriptor.async_wait(net::posix::stream_descriptor::wait_read,
                                     [weak](const boost::system::error_code& ec) {
                                         auto s = weak.lock();
                                         if (!s || ec || !s->active) return;
                                         s->fn();
                                         if (s->active) wait(s);
                                     });
    }
    std::shared_ptr<State> state_;
};

}  // namespace

struct EventLoop::Impl {
    net::io_context io{1};
    RealClock clock{io};
    std::vector<std::unique_ptr<net::signal_set>> signals;
    // Asio also stops an io_context that ran out of work; only an explicit stop() should stick.
    bool stop_requested = false;

    void resume_if_idle() {
        if (io.stopped() && !stop_requested) io.restart();
    }
};

net::io_context& detail::EventLoopAccess::io(EventLoop& loop) { return loop.impl_->io; }

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}

EventLoop::~EventLoop() {
    for (auto& s : impl_->signals) {
        boost::system::error_code ignored;
        s->cancel(ignored);
    }
}

size_t EventLoop::run() {
    impl_->resume_if_idle();
    return impl_->io.run();
}

void EventLoop::run_until(const std::function<bool()>& done) {
    impl_->resume_if_idle();
    while (!done() && !impl_->io.stopped()) {
        if (impl_->io.run_one() == 0) break;  // stopped, or nothing left that could make done() true
    }
}

void EventLoop::stop() {
    impl_->stop_requested = true;
    impl_->io.stop();
}
bool EventLoop::stopped() const { return impl_->stop_requested; }
void EventLoop::restart() {
    impl_->stop_requested = false;
    impl_->io.restart();
}

void EventLoop::post(std::function<void()> fn) { net::post(impl_->io, std::move(fn)); }

Clock& EventLoop::clock() { return impl_->clock; }

std::unique_ptr<FdWatch> EventLoop::watch_readable(int fd, std::function<void()> fn) {
    return std::make_unique<ReadableWatch>(impl_->io, fd, std::move(fn));
}

namespace {
void wait_signal(net::signal_set& set, std::shared_ptr<std::function<void(int)>> fn) {
    set.async_wait([&set, fn](const boost::system::error_code& ec, int signo) {
        if (ec) return;  // the loop is going away
        (*fn)(signo);
        wait_signal(set, fn);
    });
}
}  // namespace

bool EventLoop::on_signal(int signo, std::function<void(int)> fn) {
    auto set = std::make_unique<net::signal_set>(impl_->io);
    boost::system::error_code ec;
    set->add(signo, ec);
    if (ec) {
        log::error("runtime", "Failed to register signal {}: {}", signo, ec.message());
        return false;
    }
    wait_signal(*set, std::make_shared<std::function<void(int)>>(std::move(fn)));
    impl_->signals.push_back(std::move(set));
    return true;
}

}  // namespace credgate::runtime
