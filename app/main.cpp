// spur-app: configuration, migrations, then serve until SIGINT/SIGTERM.
#include "config.hpp"
#include "migrate.hpp"
#include "routes.hpp"
#include "services.hpp"

#include <spur/mysql/config.hpp>
#include <spur/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

namespace {

// Runs one migration step on its own short-lived loop and pool, before the server exists.
std::vector<int> with_database(const spur::mysql::Config& db_config,
                               spur::Task<std::vector<int>> (*step)(spur::mysql::Pool&)) {
    boost::asio::io_context io;
    std::vector<int> result;
    std::exception_ptr failure;
    {
        spur::mysql::Pool pool(db_config);
        boost::asio::co_spawn(io, step(pool), [&](std::exception_ptr e, std::vector<int> r) {
            failure = e;
            result = std::move(r);
        });
        io.run();
    }  // the pool's sockets go before their io_context
    if (failure) std::rethrow_exception(failure);
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    bool help = false;
    std::optional<app::Config> config;
    try {
        config = app::load_config(argc, argv, help);
    } catch (const std::exception& e) {
        fmt::print(stderr, "spur-app: {}\n", e.what());
        return 2;
    }
    if (help) {
        fmt::print("{}", app::usage());
        return 0;
    }
    try {
        const auto db_config = spur::mysql::parse_url(config->database_url);
        if (config->command == "migrate" || config->dev) {
            auto applied = with_database(db_config, app::apply_migrations);
            fmt::print(stderr, "spur-app: {} migration(s) applied {}\n", applied.size(), applied);
            if (config->command == "migrate") return 0;
        } else if (auto pending = with_database(db_config, app::pending_migrations); !pending.empty()) {
            fmt::print(stderr, "spur-app: migrations {} are pending; run `spur-app migrate` first\n", pending);
            return 1;
        }

        std::optional<spur::mysql::Pool> pool(std::in_place, db_config);
        std::optional<app::Services> services(std::in_place, *config, *pool);
        spur::App application = app::build_app(*services);
        spur::ServerOptions options;
        options.host = config->host;
        options.port = config->port;
        options.threads = config->threads;
        spur::Server server(application, options);
        const auto port = server.start();
        fmt::print(stderr, "spur-app: listening on http://{}:{}{}\n", config->host, port, config->dev ? " (development)" : "");
        server.run();
        // Pool connections live on the server's io_context: close them while it still exists.
        services.reset();
        pool.reset();
        fmt::print(stderr, "spur-app: stopped\n");
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "spur-app: {}\n", e.what());
        return 1;
    }
}
