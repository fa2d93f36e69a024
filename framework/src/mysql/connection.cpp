#include "mysql/connection_impl.hpp"

#include "mysql/kill.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>

#include <algorithm>

namespace spur::mysql {

Connection::Impl::~Impl() {
    if (mysql) mysql_close(mysql);
    for (auto& [sql, stmt] : statements) mysql_stmt_close(stmt);  // detached by mysql_close: no I/O
    for (MYSQL_STMT* stmt : orphans) mysql_stmt_close(stmt);
    if (abandoned && abandoned->op == Op::prepare) mysql_stmt_close(abandoned->stmt);  // not cached
}

void Connection::Impl::fail(unsigned n, const char* sqlstate, const char* message) {
    if (detail::is_lost(n) || n == 1047) {
        broken = true;
        server_failed = true;
        throw Error(n, sqlstate, fmt::format("{} (database server {}:{})", message, server.host, server.port));
    }
    throw Error(n, sqlstate, message);
}

Task<int> Connection::Impl::wait(int status, Clock::time_point until) {
    auto executor = co_await net::this_coro::executor;
    // libmariadb owns the socket: asio borrows it for this wait and must not close it.
    net::posix::stream_descriptor socket(executor, static_cast<int>(mysql_get_socket(mysql)));
    struct Borrowed {
        net::posix::stream_descriptor& s;
        ~Borrowed() { s.release(); }
    } borrowed{socket};
    auto type = (status & MYSQL_WAIT_READ) ? net::posix::descriptor_base::wait_read
                : (status & MYSQL_WAIT_WRITE) ? net::posix::descriptor_base::wait_write
                                              : net::posix::descriptor_base::wait_error;
    const int ready = (status & MYSQL_WAIT_READ) ? MYSQL_WAIT_READ
                      : (status & MYSQL_WAIT_WRITE) ? MYSQL_WAIT_WRITE
                                                    : MYSQL_WAIT_EXCEPT;
    const auto library_timeout = (status & MYSQL_WAIT_TIMEOUT)
                                     ? Clock::now() + std::chrono::milliseconds(mysql_get_timeout_value_ms(mysql))
                                     : Clock::time_point::max();
    if (library_timeout != Clock::time_point::max() || until != Clock::time_point::max()) {
        net::steady_timer timer(executor, std::min(library_timeout, until));
        auto [order, socket_ec, timer_ec] =
            co_await net::experimental::make_parallel_group(socket.async_wait(type, net::deferred),
                                                            timer.async_wait(net::deferred))
                .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
        if (order[0] == 1 && !timer_ec) {
            if (until < library_timeout) co_return 0;
            timed_out = true;  // Connector/C gives up on the statement: query_timeout passed
            co_return MYSQL_WAIT_TIMEOUT;
        }
        if (socket_ec) throw boost::system::system_error(socket_ec);
        co_return ready;
    }
    boost::system::error_code ec;
    co_await socket.async_wait(type, net::redirect_error(net::use_awaitable, ec));
    if (ec) throw boost::system::system_error(ec);
    co_return ready;
}

void Connection::Impl::stop_statement(const net::any_io_executor& executor, std::uint64_t id) {
    if (stopper) {
        stopper(executor, server, id);
        return;
    }
    Config same_server = config;
    same_server.hosts = {server};
    detail::stop_on_server(executor, std::move(same_server), id);
}

void Connection::Impl::abandon_between(const boost::system::system_error& e, Op op, MYSQL_STMT* stmt,
                                       const net::any_io_executor& executor) {
    if (e.code() == net::error::operation_aborted && !abandoned && !broken)
        abandoned.emplace(Abandoned{op, stmt, 0, executor, Clock::now()});
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

Task<> Connection::ping() {
    Impl& c = *impl_;
    int rc = 0;
    co_await c.drive(Op::ping, nullptr, [&] { return mysql_ping_start(&rc, c.mysql); },
                     [&](int r) { return mysql_ping_cont(&rc, c.mysql, r); });
    if (rc) {
        c.broken = true;
        c.fail();
    }
}

Task<> Connection::begin() { co_await query("START TRANSACTION"); }

Task<> Connection::commit() {
    Impl& c = *impl_;
    my_bool failed = 0;
    co_await c.drive(Op::commit, nullptr, [&] { return mysql_commit_start(&failed, c.mysql); },
                     [&](int r) { return mysql_commit_cont(&failed, c.mysql, r); });
    if (failed) {
        c.broken = true;  // whatever the server did, do not reuse a connection in doubt
        c.fail();
    }
}

Task<> Connection::rollback() {
    Impl& c = *impl_;
    my_bool failed = 0;
    co_await c.drive(Op::rollback, nullptr, [&] { return mysql_rollback_start(&failed, c.mysql); },
                     [&](int r) { return mysql_rollback_cont(&failed, c.mysql, r); });
    if (failed) c.fail();
}

Task<> Connection::rollback_or_discard() noexcept {
    try {
        co_await rollback();
    } catch (...) {
        impl_->broken = true;
    }
}

Task<> Connection::close() {
    Impl& c = *impl_;
    // An abandoned operation is still under way: the destructor closes without waiting.
    if (!c.mysql || c.abandoned) co_return;
    MYSQL* m = c.mysql;
    try {
        co_await c.drive(Op::close, nullptr, [&] { return mysql_close_start(m); }, [&](int r) { return mysql_close_cont(m, r); });
    } catch (...) {
    }
    c.mysql = nullptr;  // freed by mysql_close
    c.broken = true;
}

bool Connection::broken() const noexcept { return impl_->broken || !impl_->mysql || impl_->abandoned; }

bool Connection::in_transaction() const noexcept {
    if (!impl_->mysql) return false;
    unsigned int status = 0;
    mariadb_get_infov(impl_->mysql, MARIADB_CONNECTION_SERVER_STATUS, &status);
    return (status & SERVER_STATUS_IN_TRANS) != 0;
}

const Host& Connection::server() const noexcept { return impl_->server; }

bool Connection::server_failed() const noexcept { return impl_->server_failed; }

std::uint64_t Connection::thread_id() const noexcept { return impl_->mysql ? mysql_thread_id(impl_->mysql) : 0; }

bool Connection::abandoned() const noexcept { return impl_->abandoned.has_value(); }

const net::any_io_executor& Connection::abandoned_on() const noexcept { return impl_->abandoned->executor; }

Clock::time_point Connection::abandoned_since() const noexcept { return impl_->abandoned->since; }

void Connection::stop_statements_with(Stopper stop) { impl_->stopper = std::move(stop); }

}  // namespace spur::mysql
