#include "mysql/connection_impl.hpp"

#include <stdexcept>

namespace spur::mysql {

// Continues the abandoned operation, into its own out-parameters.
int Connection::Impl::resume_abandoned(int ready) {
    Abandoned& a = *abandoned;
    switch (a.op) {
        case Op::close_stmt: return mysql_stmt_close_cont(&a.flag, a.stmt, ready);
        case Op::prepare: return mysql_stmt_prepare_cont(&a.rc, a.stmt, ready);
        case Op::execute: return mysql_stmt_execute_cont(&a.rc, a.stmt, ready);
        case Op::store_stmt: return mysql_stmt_store_result_cont(&a.rc, a.stmt, ready);
        case Op::free_stmt: return mysql_stmt_free_result_cont(&a.flag, a.stmt, ready);
        case Op::query: return mysql_real_query_cont(&a.rc, mysql, ready);
        case Op::store_text: return mysql_store_result_cont(&a.res, mysql, ready);
        case Op::next_result: return mysql_next_result_cont(&a.rc, mysql, ready);
        case Op::ping: return mysql_ping_cont(&a.rc, mysql, ready);
        case Op::commit: return mysql_commit_cont(&a.flag, mysql, ready);
        case Op::rollback: return mysql_rollback_cont(&a.flag, mysql, ready);
        case Op::connect: case Op::close: break;
    }
    throw std::logic_error("spur::mysql: this operation is never abandoned");
}

// Runs an operation of the drain to its end; any failure leaves the connection unusable.
template <class Continue>
Task<> Connection::Impl::settle(int status, Continue resume) {
    timed_out = false;
    while (status != 0) status = resume(co_await wait(status));
    if (timed_out) throw Error(0, "08S01", "timed out draining an abandoned statement");
}

// Reads and discards the text-protocol results still pending (all of a multi-statement's).
Task<> Connection::Impl::discard_text_results(bool stored_one) {
    for (bool store = !stored_one;; store = true) {
        if (store) {
            MYSQL_RES* res = nullptr;
            co_await settle(mysql_store_result_start(&res, mysql),
                            [&](int r) { return mysql_store_result_cont(&res, mysql, r); });
            if (res) mysql_free_result(res);
        }
        if (!mysql_more_results(mysql)) co_return;
        int next = 0;
        co_await settle(mysql_next_result_start(&next, mysql),
                        [&](int r) { return mysql_next_result_cont(&next, mysql, r); });
        if (next != 0) co_return;
    }
}

Task<> Connection::drain(Clock::time_point stop_at, std::function<Task<bool>()> stop) noexcept {
    Impl& c = *impl_;
    if (!c.abandoned) co_return;
    Impl::Abandoned& a = *c.abandoned;
    try {
        // 1. The operation itself: it may end by itself until stop_at, then it is KILLed.
        c.timed_out = false;
        bool stopping = false;
        while (a.status != 0) {
            const int ready = co_await c.wait(a.status, stopping ? Clock::time_point::max() : stop_at);
            if (ready != 0) {
                a.status = c.resume_abandoned(ready);
                continue;
            }
            stopping = true;
            if (!co_await stop()) throw Error(0, "08S01", "an abandoned statement could not be stopped");
        }
        if (c.timed_out) throw Error(0, "08S01", "timed out draining an abandoned statement");
        const unsigned number = a.stmt ? mysql_stmt_errno(a.stmt) : mysql_errno(c.mysql);
        if (detail::is_lost(number)) throw Error(number, "08S01", "connection lost while draining an abandoned statement");
        // 2. What it left behind: an unread result (read and discarded), a statement prepared
        //    for nobody (closed), an open transaction (rolled back).
        switch (a.op) {
            case Op::prepare: {
                MYSQL_STMT* stmt = std::exchange(a.stmt, nullptr);
                a.op = Op::close_stmt;  // if this fails, ~Impl must not close it again
                my_bool ret = 0;
                co_await c.settle(mysql_stmt_close_start(&ret, stmt), [&](int r) { return mysql_stmt_close_cont(&ret, stmt, r); });
                break;
            }
            case Op::execute: case Op::store_stmt: {
                // Unread rows are read and dropped by free_result (Connector/C flushes them).
                my_bool ret = 0;
                co_await c.settle(mysql_stmt_free_result_start(&ret, a.stmt),
                                  [&](int r) { return mysql_stmt_free_result_cont(&ret, a.stmt, r); });
                break;
            }
            case Op::store_text:
                if (a.res) mysql_free_result(std::exchange(a.res, nullptr));
                co_await c.discard_text_results(true);
                break;
            case Op::query: case Op::next_result:
                if (a.rc == 0) co_await c.discard_text_results(false);
                break;
            default:
                break;
        }
        if (in_transaction()) {
            my_bool failed = 0;
            co_await c.settle(mysql_rollback_start(&failed, c.mysql), [&](int r) { return mysql_rollback_cont(&failed, c.mysql, r); });
            if (failed) throw Error(0, "08S01", "rollback failed while draining an abandoned statement");
        }
    } catch (...) {
        c.broken = true;
    }
    // Closing it now would be I/O on a connection in an unknown state: ~Impl closes it after
    // mysql_close, without I/O.
    if (a.op == Op::prepare) c.orphans.push_back(a.stmt);
    c.abandoned.reset();
}

}  // namespace spur::mysql
