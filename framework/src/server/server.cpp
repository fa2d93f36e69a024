#include <spur/server.hpp>

#include <spur/offload.hpp>
#include <spur/serving.hpp>

#include "server/connection.hpp"
#include "server/listeners.hpp"
#include "server/systemd.hpp"
#include "server/tls_context.hpp"
#include "server/websocket/session.hpp"
#include "util/exception_message.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace spur {

namespace {
// After the drain deadline the remaining sockets are closed; handlers that still do not
// finish (stuck in offloaded work, say) get this much longer before the loop is stopped.
constexpr std::chrono::seconds force_stop_grace{1};

detail::IpNetworks parse_trusted_proxies(const std::vector<std::string>& cidrs) {
    try {
        return detail::IpNetworks(cidrs);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("trusted_proxies: ") + e.what());
    }
}

// Debian's default soft limit of 1,024 descriptors would stop accept() long before a cap of
// thousands; raise it as far as the hard limit allows (Go's runtime does the same at start).
void raise_file_limit(std::size_t max_connections) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t wanted = std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(max_connections) + 256);
    if (limit.rlim_cur >= wanted) return;
    limit.rlim_cur = wanted;
    setrlimit(RLIMIT_NOFILE, &limit);  // best effort: at worst accept() reports EMFILE and backs off
}

unsigned resolve_threads(unsigned configured) {
    return configured ? configured : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

struct Server::Impl {
    Impl(App& a, ServerOptions o)
        : app(a), options(std::move(o)), io(1), strand(net::make_strand(io)), signals(strand), drain_timer(strand),
          delay_timer(strand), watchdog(strand), trusted_proxies(parse_trusted_proxies(options.trusted_proxies)),
          context{app, options, stopping, trusted_proxies, websocket_sessions, buffered_body_bytes},
          contexts(resolve_threads(options.threads)), open_on(std::make_unique<std::atomic<std::size_t>[]>(contexts)) {
        for (unsigned i = 1; i < contexts; ++i) workers.push_back(std::make_unique<net::io_context>(1));
        reachable->impl = this;
    }

    ~Impl() {
        std::lock_guard lock(reachable->mutex);
        reachable->impl = nullptr;
    }

    App& app;
    ServerOptions options;
    // One io_context per I/O thread, each run by that thread alone: a connection stays on
    // the thread that accepted it into its context, so no request is handed between threads
    // and no strand or shared scheduler lock is needed. `io` (thread 0's) also runs the
    // acceptors, signals, drain and background tasks.
    net::io_context io;
    net::strand<net::io_context::executor_type> strand;  // acceptor, signals and drain state
    detail::Listeners listeners{strand};
    std::unique_ptr<detail::TlsContext> tls;
    net::signal_set signals;
    net::steady_timer drain_timer;
    net::steady_timer delay_timer;
    net::steady_timer watchdog;
    bool shutdown_begun = false;     // on `strand`
    bool background_done = false;    // on `strand`: every extension has stopped
    // Serving::stop's `done` may come after the drain deadline — after this server is gone,
    // even (an extension that finishes late): it reaches the server only while it exists.
    struct Reachable {
        std::mutex mutex;
        Impl* impl = nullptr;
    };
    std::shared_ptr<Reachable> reachable = std::make_shared<Reachable>();
    bool notify_systemd = false;
    std::atomic<bool> stopping{false};  // the listeners are closed: no keep-alive from now on
    std::atomic<std::size_t> websocket_sessions{0};
    std::atomic<std::size_t> buffered_body_bytes{0};
    detail::IpNetworks trusted_proxies;
    detail::ServerContext context;
    unsigned short port = 0;
    unsigned short tls_port = 0;
    unsigned contexts;                                        // I/O threads: io plus the workers
    std::vector<std::unique_ptr<net::io_context>> workers;    // threads 1..contexts-1
    std::unique_ptr<std::atomic<std::size_t>[]> open_on;      // open connections per context
    std::vector<net::executor_work_guard<net::io_context::executor_type>> worker_guards;

    // Touched on connect and disconnect only, never per request.
    std::mutex connections_mutex;
    std::unordered_set<std::shared_ptr<detail::ConnectionState>> connections;
    // By client_key: open connections, and request-body bytes held (a node-based map: the
    // atomic's address stays put while connections of that client point at it).
    struct ClientShare {
        std::size_t connections = 0;
        std::atomic<std::size_t> body_bytes{0};
    };
    std::unordered_map<std::string, ClientShare> per_client;
    std::uint64_t refused = 0;
    std::uint64_t shed = 0;
    std::uint64_t refused_unreported = 0;
    std::chrono::steady_clock::time_point last_refusal_report{};

    void log(LogLevel level, std::string_view message) const { app.log()(level, message); }

    net::io_context& context_of(unsigned home) { return home == 0 ? io : *workers[home - 1]; }

    // The I/O thread for the next connection: the one with the fewest open, so that long-
    // lived connections spread evenly however they arrive.
    unsigned pick_home() const {
        unsigned best = 0;
        for (unsigned i = 1; i < contexts; ++i)
            if (open_on[i].load(std::memory_order_relaxed) < open_on[best].load(std::memory_order_relaxed)) best = i;
        return best;
    }

    void stop_all() {
        io.stop();
        for (auto& w : workers) w->stop();
    }

    Task<> accept_loop(detail::Listener& listener) {
        auto& from = listener.acceptor;
        detail::TlsContext* tls_context = listener.tls ? tls.get() : nullptr;
        for (;;) {
            boost::system::error_code ec;
            const unsigned home = pick_home();
            auto socket =
                co_await from.async_accept(context_of(home).get_executor(), net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                if (stopping || ec == net::error::operation_aborted || !from.is_open()) co_return;
                log(LogLevel::warn, fmt::format("accept failed: {}", ec.message()));
                // Out of file descriptors, say: back off instead of spinning.
                net::steady_timer pause(strand, std::chrono::milliseconds(50));
                co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
                continue;
            }
            if (!listener.unix_socket) socket.set_option(net::ip::tcp::no_delay(true), ec);
            auto state = std::make_shared<detail::ConnectionState>(std::move(socket));
            state->local = listener.unix_socket;
            state->home = home;
            if (!admit(state)) {
                state->tcp.socket().close(ec);
                continue;
            }
            open_on[home].fetch_add(1, std::memory_order_relaxed);
            auto session = tls_context ? detail::serve_tls(context, state, *tls_context) : detail::serve_plain(context, state);
            net::co_spawn(state->tcp.get_executor(), std::move(session),
                          net::bind_cancellation_slot(state->cancel.slot(), [this, state](std::exception_ptr failure) {
                              if (failure) report(failure);
                              connection_closed(state);
                          }));
        }
    }

    // Counts the new connection in, or says no: over the per-client cap, or at the global cap
    // with no idle connection to shed. Shedding closes one idle keep-alive connection (on its
    // own executor), so the count runs one over the cap until that close lands.
    bool admit(const std::shared_ptr<detail::ConnectionState>& state) {
        bool exempt = state->local || options.max_connections_per_ip == 0;
        if (!state->local) {
            boost::system::error_code ec;
            auto peer = state->tcp.socket().remote_endpoint(ec);
            if (ec) return false;  // already gone
            const std::string address = peer.address().to_string();
            const auto parsed = detail::parse_ip(address);
            exempt = exempt || (parsed && trusted_proxies.contains(*parsed));
            if (!exempt) state->client_key = detail::client_key(address);
        }

        std::shared_ptr<detail::ConnectionState> victim;
        {
            std::lock_guard lock(connections_mutex);
            const char* why = nullptr;
            if (!exempt) {
                auto it = per_client.find(state->client_key);
                if (it != per_client.end() && it->second.connections >= options.max_connections_per_ip) why = "per-client";
            }
            if (!why && connections.size() >= options.max_connections) {
                for (const auto& c : connections) {
                    if (!c->shedding && c->idle.load(std::memory_order_relaxed)) {
                        victim = c;
                        break;
                    }
                }
                if (victim) {
                    victim->shedding = true;
                    ++shed;
                } else {
                    why = "global";
                }
            }
            if (why) {
                ++refused;
                ++refused_unreported;
                // One line per ten seconds at most: a flood must not become a log flood.
                const auto now = std::chrono::steady_clock::now();
                if (now - last_refusal_report >= std::chrono::seconds(10)) {
                    log(LogLevel::warn, fmt::format("connection cap reached ({}): refused {} connection(s), {} open",
                                                    why, refused_unreported, connections.size()));
                    refused_unreported = 0;
                    last_refusal_report = now;
                }
                return false;
            }
            connections.insert(state);
            if (!exempt) {
                auto& share = per_client[state->client_key];
                ++share.connections;
                state->client_body_bytes = &share.body_bytes;
            }
        }
        if (victim) {
            net::post(victim->tcp.get_executor(), [victim] {
                if (victim->idle.load(std::memory_order_relaxed)) victim->tcp.close();
            });
        }
        return true;
    }

    void report(std::exception_ptr failure) const {
        log(LogLevel::error, fmt::format("connection ended by exception: {}", detail::exception_message(failure)));
    }

    void connection_closed(const std::shared_ptr<detail::ConnectionState>& state) {
        open_on[state->home].fetch_sub(1, std::memory_order_relaxed);
        bool last = false;
        {
            std::lock_guard lock(connections_mutex);
            connections.erase(state);
            if (!state->client_key.empty()) {
                if (auto it = per_client.find(state->client_key); it != per_client.end() && --it->second.connections == 0)
                    per_client.erase(it);
            }
            last = connections.empty();
        }
        if (last && stopping) net::post(strand, [this] { maybe_drained(); });
    }

    // Runs on `strand`: the drain is over once no connection and no background task is left.
    void maybe_drained() {
        if (!stopping || !background_done) return;
        std::lock_guard lock(connections_mutex);
        if (connections.empty()) drain_timer.cancel();
    }

    std::vector<std::shared_ptr<detail::ConnectionState>> snapshot() {
        std::lock_guard lock(connections_mutex);
        return {connections.begin(), connections.end()};
    }

    // Runs on `strand`. Readiness turns 503 first; the listeners stay open for drain_delay so
    // that a load balancer notices before connections are refused.
    void begin_shutdown() {
        if (shutdown_begun) return;
        shutdown_begun = true;
        Serving(app).drain();
        if (notify_systemd) detail::notify("STOPPING=1");
        boost::system::error_code ec;
        signals.cancel(ec);
        if (options.drain_delay.count() <= 0) return close_listeners();
        delay_timer.expires_after(options.drain_delay);
        delay_timer.async_wait([this](boost::system::error_code) { close_listeners(); });
    }

    // Runs on `strand`.
    void close_listeners() {
        stopping = true;
        listeners.close();
        watchdog.cancel();
        for (auto& c : snapshot()) {
            // Idle keep-alive connections close now; busy ones finish their request and
            // then close, because `stopping` turns keep-alive off; WebSockets get 1001. A new
            // connection still gets its first request served.
            net::post(c->tcp.get_executor(), [c] {
                if (auto h2 = c->http2.lock()) {
                    h2->drain();  // GOAWAY; its open streams finish
                } else if (c->idle.load(std::memory_order_relaxed) && !c->fresh.load(std::memory_order_relaxed)) {
                    c->tcp.close();
                } else if (auto ws = c->websocket.lock()) {
                    ws->close(WsCloseCode::going_away, "server shutting down");
                }
            });
        }
        drain_timer.expires_after(options.drain_timeout);
        drain_timer.async_wait([this](boost::system::error_code wait_ec) {
            if (wait_ec) return;  // cancelled: everything finished in time
            auto left = snapshot();
            log(LogLevel::warn, fmt::format("drain timeout: closing {} connection(s){}", left.size(),
                                            background_done ? "" : "; extensions still stopping (background tasks, event streams)"));
            for (auto& c : left) net::post(c->tcp.get_executor(), [c] { c->tcp.close(); });
            drain_timer.expires_after(force_stop_grace);
            drain_timer.async_wait([this](boost::system::error_code grace_ec) {
                if (!grace_ec) stop_all();
            });
        });
        // After the deadline is armed: whatever the extensions do, the drain ends by it.
        Serving(app).stop([reachable = reachable] {
            std::lock_guard lock(reachable->mutex);
            if (auto* impl = reachable->impl) {
                net::post(impl->strand, [impl] {
                    impl->background_done = true;
                    impl->maybe_drained();
                });
            }
        });
        maybe_drained();
    }

    // Proves to systemd's watchdog that the event loop still turns.
    void arm_watchdog(std::chrono::microseconds interval) {
        watchdog.expires_after(interval);
        watchdog.async_wait([this, interval](boost::system::error_code ec) {
            if (ec || stopping) return;
            detail::notify("WATCHDOG=1");
            arm_watchdog(interval);
        });
    }

    void run_thread(net::io_context& context) {
        // No exception may end an I/O thread: log it and keep serving.
        for (;;) {
            try {
                context.run();
                return;
            } catch (...) {
                log(LogLevel::error, fmt::format("exception escaped the I/O loop: {}",
                                                 detail::exception_message(std::current_exception())));
            }
        }
    }
};

Server::Server(App& app, ServerOptions options) : impl_(std::make_unique<Impl>(app, std::move(options))) {
    if (impl_->options.http2.cleartext && !SPUR_HAS_HTTP2)
        throw std::invalid_argument("spur: http2.cleartext needs HTTP/2, and spur was built without it (SPUR_WITH_HTTP2=OFF)");
}

Server::~Server() {
    impl_->stop_all();  // the listeners' unix socket files go with them
}

unsigned short Server::start() {
    auto& s = *impl_;
    Serving serving(s.app);  // freezes: the routes are final from here
    set_blocking_threads(s.io, s.options.blocking_threads);
    set_blocking_queue_limit(s.io, s.options.max_blocking_queue);
    for (auto& w : s.workers) detail::share_blocking_pool(s.io, *w);

    raise_file_limit(s.options.max_connections);
    if (s.options.tls) s.tls = std::make_unique<detail::TlsContext>(*s.options.tls, SPUR_HAS_HTTP2 && s.options.http2.tls);
    s.notify_systemd = s.options.systemd;
    if (!(s.options.systemd && s.listeners.take_inherited(s.tls != nullptr))) {
        if (!s.options.plain && !s.options.tls && s.options.unix_path.empty())
            throw std::invalid_argument("spur: nothing to listen on (plain = false, no tls, no unix_path)");
        s.listeners.bind(s.options, s.tls != nullptr);
    }
    s.port = s.listeners.first_port(false);
    s.tls_port = s.listeners.first_port(true);

    auto on_failure = [this](std::exception_ptr failure) {
        if (failure) impl_->report(failure);
    };
    for (auto& l : s.listeners) net::co_spawn(s.strand, s.accept_loop(*l), on_failure);
    if (s.options.handle_signals) {
        s.signals.add(SIGINT);
        s.signals.add(SIGTERM);
        s.signals.async_wait([this](boost::system::error_code ec, int signal) {
            if (ec) return;
            impl_->log(LogLevel::info, fmt::format("signal {} received: draining", signal));
            impl_->begin_shutdown();
        });
    }
    serving.start(s.io.get_executor());
    if (s.notify_systemd) {
        net::post(s.strand, [&s] {
            detail::notify("READY=1");
            if (auto interval = detail::watchdog_interval()) s.arm_watchdog(*interval);
        });
    }
    return s.port ? s.port : s.tls_port;
}

void Server::run() {
    auto& s = *impl_;
    std::vector<std::thread> threads;
    threads.reserve(s.workers.size());
    for (auto& w : s.workers) {
        s.worker_guards.push_back(net::make_work_guard(*w));
        threads.emplace_back([&s, &context = *w] { s.run_thread(context); });
    }
    s.run_thread(s.io);
    // Drained (or stopped): the other threads finish what their io_contexts still hold.
    s.worker_guards.clear();
    for (auto& t : threads) t.join();
}

void Server::shutdown() {
    net::post(impl_->strand, [this] { impl_->begin_shutdown(); });
}

unsigned short Server::port() const noexcept { return impl_->port; }

unsigned short Server::tls_port() const noexcept { return impl_->tls_port; }

std::vector<std::string> Server::urls() const { return impl_->listeners.urls(); }

Server::Stats Server::stats() const {
    std::lock_guard lock(impl_->connections_mutex);
    return {impl_->connections.size(), impl_->refused, impl_->shed, impl_->websocket_sessions.load(std::memory_order_relaxed),
            impl_->buffered_body_bytes.load(std::memory_order_relaxed)};
}

}  // namespace spur
