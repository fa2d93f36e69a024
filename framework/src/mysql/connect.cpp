#include "mysql/connection_impl.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <mutex>
#include <optional>

namespace spur::mysql {

namespace {

unsigned seconds_at_least_1(std::chrono::milliseconds ms) {
    return static_cast<unsigned>(std::max<long long>(1, (ms.count() + 999) / 1000));
}

}  // namespace

Task<std::unique_ptr<Connection>> Connection::connect(const Config& config) {
    return connect_any(config, hosts_of(config), nullptr);
}

Task<std::unique_ptr<Connection>> Connection::connect_any(const Config& config, std::vector<Host> order,
                                                          std::function<void(const Host&)> failed) {
    if (order.size() == 1) co_return co_await connect_to(config, order.front(), false);
    std::string failures;
    unsigned number = 0;
    std::string sqlstate;
    for (const auto& host : order) {
        try {
            co_return co_await connect_to(config, host, true);
        } catch (const Error& e) {
            failures += fmt::format("{}{}:{}: {}", failures.empty() ? "" : "; ", host.host, host.port, e.what());
            number = e.number();
            sqlstate = e.sqlstate();
        }
        if (failed) failed(host);
    }
    throw Error(number, sqlstate, "no database host answered: " + failures);
}

Task<std::unique_ptr<Connection>> Connection::connect_to(const Config& config, const Host& server, bool require_ready) {
    static std::once_flag library;
    std::call_once(library, [] { mysql_library_init(0, nullptr, nullptr); });

    auto executor = co_await net::this_coro::executor;
    auto impl = std::make_unique<Impl>(config);
    impl->server = server;
    std::string host = server.host;
    if (host != "localhost") {
        // Connector/C would resolve the name with a blocking getaddrinfo(); resolve it here instead.
        boost::system::error_code ec;
        net::ip::make_address(host, ec);
        if (ec) {
            net::ip::tcp::resolver resolver(executor);
            boost::system::error_code resolve_ec;
            auto results = co_await resolver.async_resolve(host, std::to_string(server.port),
                                                           net::redirect_error(net::use_awaitable, resolve_ec));
            if (resolve_ec || results.empty())
                throw Error(2005, "HY000", fmt::format("unknown database host '{}': {}", host, resolve_ec.message()));
            host = results.begin()->endpoint().address().to_string();
        }
    }
    MYSQL* m = mysql_init(nullptr);
    if (!m) throw Error(2008, "HY000", "out of memory");
    impl->mysql = m;
    mysql_options(m, MYSQL_OPT_NONBLOCK, nullptr);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    // One SET for the session: UTC, and the server-side statement limit when there is one.
    std::string init = "SET time_zone = '+00:00'";
    if (config.max_statement_time.count() > 0)
        init += fmt::format(", max_statement_time = {:.3f}", config.max_statement_time.count() / 1000.0);
    if (config.causal_reads) init += ", wsrep_sync_wait = 1";
    mysql_options(m, MYSQL_INIT_COMMAND, init.c_str());
    unsigned connect_timeout = seconds_at_least_1(config.connect_timeout);
    unsigned io_timeout = seconds_at_least_1(config.query_timeout);
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);

    MYSQL* connected = nullptr;
    const char* db = config.database.empty() ? nullptr : config.database.c_str();
    const char* sock = config.socket.empty() ? nullptr : config.socket.c_str();
    // FOUND_ROWS: affected_rows counts matched rows, so an UPDATE that changes nothing still says "found".
    const unsigned long flags = (config.multi_statements ? CLIENT_MULTI_STATEMENTS : 0) | CLIENT_FOUND_ROWS;
    co_await impl->drive(
        Op::connect, nullptr,
        [&] {
            return mysql_real_connect_start(&connected, m, host.c_str(), config.user.c_str(), config.password.c_str(),
                                            db, server.port, sock, flags);
        },
        [&](int ready) { return mysql_real_connect_cont(&connected, m, ready); });
    if (!connected) impl->fail();
    std::unique_ptr<Connection> c(new Connection(std::move(impl)));
    if (require_ready) {
        // A Galera node outside the primary component (or still joining) accepts connections
        // but refuses statements on tables with 1047, and so does one an operator takes out of
        // rotation (wsrep_reject_queries). A server without the Galera provider says wsrep_ready
        // OFF too, but has no provider name; one without these tables (MySQL) is no Galera node.
        std::optional<Result> status;
        try {
            status = co_await c->query(
                "SELECT LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                "WHERE VARIABLE_NAME IN ('WSREP_PROVIDER_NAME', 'WSREP_READY') UNION ALL "
                "SELECT LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES "
                "WHERE VARIABLE_NAME = 'WSREP_REJECT_QUERIES'");
        } catch (const Error& e) {
            if (e.number() == 1047 || c->broken()) throw;
        }
        std::string provider, ready, reject = "NONE";
        for (const auto& row : status ? *status : Result{}) {
            const auto name = row.get<std::string>(0);
            auto value = row.get<std::string>(1);
            if (name == "wsrep_ready") ready = std::move(value);
            else if (name == "wsrep_provider_name") provider = std::move(value);
            else reject = std::move(value);
        }
        if (!provider.empty() && (ready != "ON" || reject != "NONE"))
            throw Error(1047, "08S01", fmt::format("database server {}:{} is a Galera node not ready for queries",
                                                   server.host, server.port));
    }
    co_return c;
}

}  // namespace spur::mysql
