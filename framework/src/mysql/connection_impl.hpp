#pragma once
// Connection::Impl — one connection's state, and drive(), which runs each of Connector/C's
// non-blocking operations. Private to the connection's files: connection.cpp (the driver's
// parts and the small operations), connect.cpp, execute.cpp (statements and their results),
// drain.cpp (what a cancelled caller left behind).

#include <spur/mysql/connection.hpp>
#include <spur/mysql/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <mysql.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spur::mysql {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

namespace detail {
inline bool is_lost(unsigned number) { return Error(number, "", "").connection_lost(); }
}  // namespace detail

// The operations drive() runs. Named, so that one a cancelled caller abandoned half-way can be
// finished by Connection::drain without the caller's frame (its out-parameters die with it).
enum class Op { connect, close, close_stmt, prepare, execute, store_stmt, free_stmt, query, store_text, next_result, ping, commit, rollback };

// Nothing from Asio is kept between operations (no descriptor, timer or executor): each wait
// wraps the socket for as long as it lasts. So a connection (and its pool) may outlive the
// io_context it last ran on — `Pool db; App app; app.listen();` destroys that io_context
// first — and still close cleanly.
struct Connection::Impl {
    explicit Impl(Config c) : config(std::move(c)) {}
    ~Impl();

    // An operation whose caller was cancelled mid-way: still under way in Connector/C (and on the
    // server), to be finished by drain() with out-parameters of its own.
    struct Abandoned {
        Op op;
        MYSQL_STMT* stmt;              // the statement it works on, if any
        int status;                    // what Connector/C waits for next (0: it had finished)
        net::any_io_executor executor; // where it ran; the drain goes on there
        Clock::time_point since;       // when the operation began
        int rc = 0;
        my_bool flag = 0;
        MYSQL_RES* res = nullptr;
    };

    Config config;
    Host server;
    MYSQL* mysql = nullptr;
    bool broken = false;
    bool server_failed = false;  // broken by the server's fault (see Connection::server_failed)
    bool timed_out = false;  // the last wait ended at Connector/C's timeout
    std::optional<Abandoned> abandoned;
    std::vector<MYSQL_STMT*> orphans;  // prepared for a caller that left, when the drain failed
    Connection::Stopper stopper;  // set by a pool: its admin connection sends the KILLs
    std::list<std::pair<std::string, MYSQL_STMT*>> statements;  // most recently used first
    std::unordered_map<std::string_view, std::list<std::pair<std::string, MYSQL_STMT*>>::iterator> statement_index;

    [[noreturn]] void fail() { fail(mysql_errno(mysql), mysql_sqlstate(mysql), mysql_error(mysql)); }
    [[noreturn]] void fail(MYSQL_STMT* stmt) {
        fail(mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt));
    }
    // A lost server, or a Galera node that stopped being ready (1047: it left the primary
    // component), makes the connection useless: it is dropped, and the message names the server.
    [[noreturn]] void fail(unsigned n, const char* sqlstate, const char* message);

    // Waits until the socket is ready as Connector/C asked, or its timeout passes; returns 0 if
    // `until` comes first.
    Task<int> wait(int status, Clock::time_point until = Clock::time_point::max());

    // Runs one non-blocking operation to completion: start, then continue whenever the socket
    // is ready.
    // - The caller cancelled (its client left, a deadline won a race): the operation is left as
    //   it is, recorded in `abandoned`, and the cancellation goes on up. Breaking the connection
    //   instead would cost a new connection per cancelled statement (and one more to KILL it);
    //   the pool drains it in the background (drain()).
    // - Timed out or failed mid-protocol: the connection's state is unknown, so it is marked
    //   broken — and the server, which would go on running the statement for nobody, is told
    //   to stop it.
    template <class Start, class Continue>
    Task<> drive(Op op, MYSQL_STMT* stmt, Start start, Continue resume) {
        // Connector/C is still inside the abandoned operation: a new one would corrupt both.
        if (abandoned) throw Error(0, "08S01", "the connection is broken: an abandoned operation is still under way");
        auto executor = co_await net::this_coro::executor;
        const bool statement = op != Op::connect && op != Op::close;
        const std::uint64_t server_thread = statement ? mysql_thread_id(mysql) : 0;
        const auto since = Clock::now();
        timed_out = false;
        int status = start();
        std::exception_ptr failure;
        try {
            while (status != 0) status = resume(co_await wait(status));
        } catch (const boost::system::system_error& e) {
            if (statement && e.code() == net::error::operation_aborted) {
                abandoned.emplace(Abandoned{op, stmt, status, executor, since});
                throw;
            }
            broken = true;
            failure = std::current_exception();
        } catch (...) {
            broken = true;
            failure = std::current_exception();
        }
        if ((failure || timed_out) && server_thread != 0) stop_statement(executor, server_thread);
        if (failure) std::rethrow_exception(failure);
    }

    // Through the pool's admin connection when there is one (it counts what it cannot send),
    // else from a short-lived side connection.
    void stop_statement(const net::any_io_executor& executor, std::uint64_t id);

    // Asio throws operation_aborted at a cancelled coroutine's co_await before the awaited
    // coroutine runs: a caller cancelled between two operations of a statement whose results are
    // pending leaves them for the drain too (status 0: nothing in flight, only unread results).
    void abandon_between(const boost::system::system_error& e, Op op, MYSQL_STMT* stmt,
                         const net::any_io_executor& executor);

    // The prepared statement for `sql`, from the cache (statement_cache, least recently used
    // closed first) or prepared now (execute.cpp).
    Task<MYSQL_STMT*> prepare(std::string_view sql);

    // Draining an abandoned operation (drain.cpp).
    int resume_abandoned(int ready);
    template <class Continue>
    Task<> settle(int status, Continue resume);
    Task<> discard_text_results(bool stored_one);
};

}  // namespace spur::mysql
