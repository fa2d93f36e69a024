#include <spur/server.hpp>

#include <spur/offload.hpp>

#include "server/connection.hpp"
#include "server/tls_context.hpp"
#include "server/websocket/session.hpp"
#include "util/exception_message.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <sys/resource.h>

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
        : app(a), options(std::move(o)), io(static_cast<int>(resolve_threads(options.threads))),
          strand(net::make_strand(io)), acceptor(strand), tls_acceptor(strand), signals(strand), drain_timer(strand),
          trusted_proxies(parse_trusted_proxies(options.trusted_proxies)), context{app, options, stopping, trusted_proxies} {}

    App& app;
    ServerOptions options;
    net::io_context io;
    net::strand<net::io_context::executor_type> strand;  // acceptor, signals and drain state
    net::ip::tcp::acceptor acceptor;
    net::ip::tcp::acceptor tls_acceptor;
    std::unique_ptr<detail::TlsContext> tls;
    net::signal_set signals;
    net::steady_timer drain_timer;
    std::atomic<bool> stopping{false};
    detail::IpNetworks trusted_proxies;
    detail::ServerContext context;
    unsigned short port = 0;
    unsigned short tls_port = 0;

    // Touched on connect and disconnect only, never per request.
    std::mutex connections_mutex;
    std::unordered_set<std::shared_ptr<detail::ConnectionState>> connections;
    std::unordered_map<std::string, std::size_t> per_client;  // open connections by client_key
    std::uint64_t refused = 0;
    std::uint64_t shed = 0;
    std::uint64_t refused_unreported = 0;
    std::chrono::steady_clock::time_point last_refusal_report{};

    void log(LogLevel level, std::string_view message) const { app.log()(level, message); }

    // One I/O thread is already an implicit strand; a real one would only add a queue hop
    // to every completion.
    net::any_io_executor connection_executor() {
        if (resolve_threads(options.threads) == 1) return io.get_executor();
        return net::make_strand(io);
    }

    Task<> accept_loop(net::ip::tcp::acceptor& from, detail::TlsContext* tls_context) {
        for (;;) {
            boost::system::error_code ec;
            auto socket = co_await from.async_accept(connection_executor(), net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                if (stopping || ec == net::error::operation_aborted || !from.is_open()) co_return;
                log(LogLevel::warn, fmt::format("accept failed: {}", ec.message()));
                // Out of file descriptors, say: back off instead of spinning.
                net::steady_timer pause(strand, std::chrono::milliseconds(50));
                co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
                continue;
            }
            socket.set_option(net::ip::tcp::no_delay(true), ec);
            auto state = std::make_shared<detail::ConnectionState>(std::move(socket));
            if (!admit(state)) {
                state->tcp.socket().close(ec);
                continue;
            }
            auto session = tls_context ? detail::serve_tls(context, state, *tls_context) : detail::serve_plain(context, state);
            net::co_spawn(state->tcp.get_executor(), std::move(session),
                          [this, state](std::exception_ptr failure) {
                              if (failure) report(failure);
                              connection_closed(state);
                          });
        }
    }

    // Counts the new connection in, or says no: over the per-client cap, or at the global cap
    // with no idle connection to shed. Shedding closes one idle keep-alive connection (on its
    // own executor), so the count runs one over the cap until that close lands.
    bool admit(const std::shared_ptr<detail::ConnectionState>& state) {
        boost::system::error_code ec;
        auto peer = state->tcp.socket().remote_endpoint(ec);
        if (ec) return false;  // already gone
        const std::string address = peer.address().to_string();
        const auto parsed = detail::parse_ip(address);
        const bool exempt = options.max_connections_per_ip == 0 || (parsed && trusted_proxies.contains(*parsed));
        if (!exempt) state->client_key = detail::client_key(address);

        std::shared_ptr<detail::ConnectionState> victim;
        {
            std::lock_guard lock(connections_mutex);
            const char* why = nullptr;
            if (!exempt) {
                auto it = per_client.find(state->client_key);
                if (it != per_client.end() && it->second >= options.max_connections_per_ip) why = "per-client";
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
            if (!exempt) ++per_client[state->client_key];
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
        bool last = false;
        {
            std::lock_guard lock(connections_mutex);
            connections.erase(state);
            if (!state->client_key.empty()) {
                if (auto it = per_client.find(state->client_key); it != per_client.end() && --it->second == 0)
                    per_client.erase(it);
            }
            last = connections.empty();
        }
        if (last && stopping) net::post(strand, [this] { drain_timer.cancel(); });
    }

    std::vector<std::shared_ptr<detail::ConnectionState>> snapshot() {
        std::lock_guard lock(connections_mutex);
        return {connections.begin(), connections.end()};
    }

    // Runs on `strand`.
    void begin_shutdown() {
        if (stopping.exchange(true)) return;
        boost::system::error_code ec;
        acceptor.close(ec);
        tls_acceptor.close(ec);
        signals.cancel(ec);
        auto open = snapshot();
        if (open.empty()) return;
        for (auto& c : open) {
            // Idle keep-alive connections close now; busy ones finish their request and
            // then close, because `stopping` turns keep-alive off; WebSockets get 1001.
            net::post(c->tcp.get_executor(), [c] {
                if (c->idle.load(std::memory_order_relaxed)) {
                    c->tcp.close();
                } else if (auto ws = c->websocket.lock()) {
                    ws->close(WsCloseCode::going_away, "server shutting down");
                }
            });
        }
        drain_timer.expires_after(options.drain_timeout);
        drain_timer.async_wait([this](boost::system::error_code wait_ec) {
            if (wait_ec) return;  // cancelled: every connection finished in time
            auto left = snapshot();
            log(LogLevel::warn, fmt::format("drain timeout: closing {} connection(s)", left.size()));
            for (auto& c : left) net::post(c->tcp.get_executor(), [c] { c->tcp.close(); });
            drain_timer.expires_after(force_stop_grace);
            drain_timer.async_wait([this](boost::system::error_code grace_ec) {
                if (!grace_ec) io.stop();
            });
        });
    }

    void run_thread() {
        // No exception may end an I/O thread: log it and keep serving.
        for (;;) {
            try {
                io.run();
                return;
            } catch (...) {
                log(LogLevel::error, fmt::format("exception escaped the I/O loop: {}",
                                                 detail::exception_message(std::current_exception())));
            }
        }
    }
};

Server::Server(App& app, ServerOptions options) : impl_(std::make_unique<Impl>(app, std::move(options))) {}

Server::~Server() {
    impl_->io.stop();
}

unsigned short Server::start() {
    auto& s = *impl_;
    s.app.freeze();
    set_blocking_threads(s.io, s.options.blocking_threads);
    set_blocking_queue_limit(s.io, s.options.max_blocking_queue);

    if (!s.options.plain && !s.options.tls) throw std::invalid_argument("spur: plain = false needs tls settings");
    raise_file_limit(s.options.max_connections);
    if (s.options.tls) s.tls = std::make_unique<detail::TlsContext>(*s.options.tls);

    std::string host = s.options.host == "localhost" ? "127.0.0.1" : s.options.host;
    auto bind = [&](net::ip::tcp::acceptor& acceptor, unsigned short port) {
        net::ip::tcp::endpoint endpoint(net::ip::make_address(host), port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        if (endpoint.address().is_v6()) acceptor.set_option(net::ip::v6_only(false));
        acceptor.bind(endpoint);
        acceptor.listen(net::socket_base::max_listen_connections);
        return acceptor.local_endpoint().port();
    };
    if (s.options.plain) s.port = bind(s.acceptor, s.options.port);
    if (s.tls) s.tls_port = bind(s.tls_acceptor, s.options.tls->port);

    auto on_failure = [this](std::exception_ptr failure) {
        if (failure) impl_->report(failure);
    };
    if (s.options.plain) net::co_spawn(s.strand, s.accept_loop(s.acceptor, nullptr), on_failure);
    if (s.tls) net::co_spawn(s.strand, s.accept_loop(s.tls_acceptor, s.tls.get()), on_failure);
    if (s.options.handle_signals) {
        s.signals.add(SIGINT);
        s.signals.add(SIGTERM);
        s.signals.async_wait([this](boost::system::error_code ec, int signal) {
            if (ec) return;
            impl_->log(LogLevel::info, fmt::format("signal {} received: draining", signal));
            impl_->begin_shutdown();
        });
    }
    return s.options.plain ? s.port : s.tls_port;
}

void Server::run() {
    const unsigned n = resolve_threads(impl_->options.threads);
    std::vector<std::thread> threads;
    threads.reserve(n - 1);
    for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { impl_->run_thread(); });
    impl_->run_thread();
    for (auto& t : threads) t.join();
}

void Server::shutdown() {
    net::post(impl_->strand, [this] { impl_->begin_shutdown(); });
}

unsigned short Server::port() const noexcept { return impl_->port; }

unsigned short Server::tls_port() const noexcept { return impl_->tls_port; }

Server::Stats Server::stats() const {
    std::lock_guard lock(impl_->connections_mutex);
    return {impl_->connections.size(), impl_->refused, impl_->shed};
}

}  // namespace spur
