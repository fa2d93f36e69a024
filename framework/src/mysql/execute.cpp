#include "mysql/connection_impl.hpp"

#include "mysql/statement.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace spur::mysql {

namespace {


// Column values of the text protocol (query()) arrive as strings; give them their type.
Value text_value(const MYSQL_FIELD& f, const char* data, unsigned long length) {
    if (!data) return Value();
    std::string_view s(data, length);
    switch (f.type) {
        case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG: case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_INT24: case MYSQL_TYPE_YEAR:
            if (f.flags & UNSIGNED_FLAG) return Value(static_cast<std::uint64_t>(std::strtoull(data, nullptr, 10)));
            return Value(static_cast<std::int64_t>(std::strtoll(data, nullptr, 10)));
        case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE:
            return Value(std::strtod(data, nullptr));
        case MYSQL_TYPE_DATE: case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_TIMESTAMP: {
            DateTime d;
            char frac[8] = {0};
            std::sscanf(data, "%d-%d-%d %d:%d:%d.%6s", &d.year, &d.month, &d.day, &d.hour, &d.minute, &d.second, frac);
            if (frac[0]) {
                std::string digits(frac);
                digits.resize(6, '0');
                d.microsecond = std::atoi(digits.c_str());
            }
            return Value(d);
        }
        default:
            if (detail::binary_column(f)) return Value(Blob(std::string(s)));
            return Value(std::string(s));
    }
}

std::shared_ptr<const std::vector<std::string>> column_names(MYSQL_RES* meta) {
    auto names = std::make_shared<std::vector<std::string>>();
    unsigned n = mysql_num_fields(meta);
    MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    for (unsigned i = 0; i < n; ++i) names->emplace_back(fields[i].name, fields[i].name_length);
    return names;
}

}  // namespace

Task<MYSQL_STMT*> Connection::Impl::prepare(std::string_view sql) {
    if (auto it = statement_index.find(sql); it != statement_index.end()) {
        statements.splice(statements.begin(), statements, it->second);
        co_return it->second->second;
    }
    if (config.statement_cache > 0 && statements.size() >= config.statement_cache) {
        MYSQL_STMT* old = statements.back().second;
        statement_index.erase(statements.back().first);
        statements.pop_back();
        my_bool ret = 0;
        co_await drive(Op::close_stmt, old, [&] { return mysql_stmt_close_start(&ret, old); },
                       [&](int r) { return mysql_stmt_close_cont(&ret, old, r); });
    }
    MYSQL_STMT* stmt = mysql_stmt_init(mysql);
    if (!stmt) fail();
    my_bool update_max_length = 1;
    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
    int rc = 0;
    co_await drive(Op::prepare, stmt, [&] { return mysql_stmt_prepare_start(&rc, stmt, sql.data(), sql.size()); },
                   [&](int r) { return mysql_stmt_prepare_cont(&rc, stmt, r); });
    if (rc) {
        Error e(mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt));
        if (e.connection_lost()) broken = true;
        mysql_stmt_close(stmt);  // never prepared on the server: no I/O
        throw e;
    }
    if (config.statement_cache > 0) {
        statements.emplace_front(std::string(sql), stmt);
        statement_index.emplace(statements.front().first, statements.begin());
    }
    co_return stmt;
}

Task<Result> Connection::execute_values(std::string_view sql, std::vector<Value> params) {
    Impl& c = *impl_;
    if (c.broken) throw Error(0, "08S01", "the connection is broken");
    const auto executor = co_await net::this_coro::executor;
    MYSQL_STMT* stmt = co_await c.prepare(sql);

    const unsigned long expected = mysql_stmt_param_count(stmt);
    if (expected != params.size())
        throw Error(0, "07001", fmt::format("statement expects {} parameter(s), got {}", expected, params.size()));
    detail::ParamBinds binds(params);
    if (!binds.empty() && mysql_stmt_bind_param(stmt, binds.data())) c.fail(stmt);

    int rc = 0;
    co_await c.drive(Op::execute, stmt, [&] { return mysql_stmt_execute_start(&rc, stmt); },
                     [&](int r) { return mysql_stmt_execute_cont(&rc, stmt, r); });
    if (rc) c.fail(stmt);

    Result result;
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt);
    if (!meta) {
        result.affected_rows = mysql_stmt_affected_rows(stmt);
        result.last_insert_id = mysql_stmt_insert_id(stmt);
        co_return result;
    }
    // Rows are pending from here on: any failure leaves the protocol mid-way (unless a cancelled
    // caller left it for the drain).
    struct Pending {
        Impl& c;
        MYSQL_RES* meta;
        bool done = false;
        ~Pending() {
            mysql_free_result(meta);
            if (!done && !c.abandoned) c.broken = true;
        }
    } pending{c, meta};

    try {
        co_await c.drive(Op::store_stmt, stmt, [&] { return mysql_stmt_store_result_start(&rc, stmt); },
                         [&](int r) { return mysql_stmt_store_result_cont(&rc, stmt, r); });
        if (rc) c.fail(stmt);

        result.columns = column_names(meta);
        detail::ResultBinds columns(meta);  // after store_result: max_length is known
        if (mysql_stmt_bind_result(stmt, columns.data())) c.fail(stmt);
        for (;;) {
            int f = mysql_stmt_fetch(stmt);  // rows are stored client-side: no I/O
            if (f == MYSQL_NO_DATA) break;
            if (f == 1) c.fail(stmt);
            result.rows.emplace_back(result.columns, columns.row());
        }
        my_bool freed = 0;
        co_await c.drive(Op::free_stmt, stmt, [&] { return mysql_stmt_free_result_start(&freed, stmt); },
                         [&](int r) { return mysql_stmt_free_result_cont(&freed, stmt, r); });
    } catch (const boost::system::system_error& e) {
        c.abandon_between(e, Op::execute, stmt, executor);
        throw;
    }
    pending.done = true;
    result.affected_rows = result.rows.size();
    co_return result;
}

Task<Result> Connection::query(std::string_view sql) {
    Impl& c = *impl_;
    if (c.broken) throw Error(0, "08S01", "the connection is broken");
    MYSQL* m = c.mysql;
    const auto executor = co_await net::this_coro::executor;
    int rc = 0;
    co_await c.drive(Op::query, nullptr, [&] { return mysql_real_query_start(&rc, m, sql.data(), sql.size()); },
                     [&](int r) { return mysql_real_query_cont(&rc, m, r); });
    if (rc) c.fail();
    // Results are pending until the loop ends: leaving it early by an exception (one between two
    // operations included) must not put the connection back with results unread.
    struct Pending {
        Impl& c;
        bool done = false;
        ~Pending() {
            if (!done && !c.abandoned) c.broken = true;
        }
    } pending{c};
    Result last;
    try {
        for (;;) {
            MYSQL_RES* res = nullptr;
            co_await c.drive(Op::store_text, nullptr, [&] { return mysql_store_result_start(&res, m); },
                             [&](int r) { return mysql_store_result_cont(&res, m, r); });
            Result current;
            if (res) {
                current.columns = column_names(res);
                const unsigned n = mysql_num_fields(res);
                MYSQL_FIELD* fields = mysql_fetch_fields(res);
                while (MYSQL_ROW row = mysql_fetch_row(res)) {  // stored: no I/O
                    unsigned long* lengths = mysql_fetch_lengths(res);
                    std::vector<Value> values;
                    values.reserve(n);
                    for (unsigned i = 0; i < n; ++i) values.push_back(text_value(fields[i], row[i], lengths[i]));
                    current.rows.emplace_back(current.columns, std::move(values));
                }
                current.affected_rows = current.rows.size();
                mysql_free_result(res);
            } else if (mysql_field_count(m) != 0) {
                c.fail();
            } else {
                current.affected_rows = mysql_affected_rows(m);
                current.last_insert_id = mysql_insert_id(m);
            }
            last = std::move(current);
            if (!mysql_more_results(m)) break;
            int next = 0;
            co_await c.drive(Op::next_result, nullptr, [&] { return mysql_next_result_start(&next, m); },
                             [&](int r) { return mysql_next_result_cont(&next, m, r); });
            if (next > 0) {
                // A server error in a later statement ends the batch: the server runs none after
                // it and sends nothing more, so the connection is clean (a migrator then learns
                // whether an implicit commit happened). A client error leaves it unknown: broken.
                const unsigned n = mysql_errno(m);
                if (n < 2000 || n >= 3000) pending.done = true;
                c.fail();
            }
            if (next < 0) break;
        }
    } catch (const boost::system::system_error& e) {
        c.abandon_between(e, Op::query, nullptr, executor);
        throw;
    }
    pending.done = true;
    co_return last;
}

}  // namespace spur::mysql
