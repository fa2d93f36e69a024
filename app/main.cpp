// spur-app: configuration, migrations, then serve until SIGINT/SIGTERM.
#include "config.hpp"
#include "health/admin_listener.hpp"
#include "jobs/command.hpp"
#include "migrate.hpp"
#include "routes.hpp"
#include "services.hpp"
#include "settings.hpp"

#include <spur/buffered_log.hpp>
#include <spur/mysql/config.hpp>
#include <spur/mysql/migrator.hpp>
#include <spur/openapi/openapi.hpp>
#include <spur/server.hpp>

#include <boost/json/serialize.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cstdio>


int main(int argc, char** argv) {
    bool help = false;
    std::optional<app::Config> config;
    try {
        config = app::load_config(argc, argv, help);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "spur-app: %s\n", e.what());  // not fmt: it throws when stderr is gone
        return 2;
    }
    if (help) {
        fmt::print("{}", app::usage());
        return 0;
    }
    if (config->command == "settings") {  // the table docs/api.md holds (the settings_doc test)
        fmt::print("{}", app::settings_markdown());
        return 0;
    }
    try {
        const auto db_config = app::database_config(*config);
        if (config->command == "openapi") {  // nothing connects: the pool opens connections on demand
            spur::mysql::Pool pool(db_config);
            app::Services services(*config, pool);
            fmt::print("{}\n", boost::json::serialize(spur::openapi_document(app::build_app(services))));
            return 0;
        }
        if (config->command == "jobs") return app::jobs::command(db_config, config->jobs_args);
        if (config->command == "migrate") {
            // The command line as migrate_cli reads it: the settings were parsed above.
            std::string migrate = "migrate", action = config->migrate_action;
            char* args[] = {argv[0], migrate.data(), action.data(), nullptr};
            if (auto rc = spur::mysql::migrate_cli(3, args, db_config, app::migrations())) return *rc;
        }
        if (config->dev) {
            auto applied = app::migrations_now(db_config, true);
            fmt::print(stderr, "spur-app: {} migration(s) applied {}\n", applied.size(), applied);
        } else if (auto pending = app::migrations_now(db_config, false); !pending.empty()) {
            fmt::print(stderr, "spur-app: migrations {} are pending; run `spur-app migrate` first\n", pending);
            return 1;
        }

        // The log and the access log reach stderr through a thread of their own: no request waits
        // for a terminal, journald or a full pipe. Past 8 MiB waiting, lines are dropped and
        // counted (log_lines_dropped_total); what is waiting is written once the server drained.
        spur::BufferedLogOptions log_options;
        log_options.format = config->log_format == "json" ? spur::LogFormat::json : spur::LogFormat::text;
        spur::BufferedLog log(log_options);
        config->log_sink = log.sink();
        config->access_log_sink = log.line_sink();
        std::optional<spur::mysql::Pool> pool(std::in_place, db_config);
        std::optional<app::Services> services(std::in_place, *config, *pool);
        services->metrics.registry().counter_function(
            "log_lines_dropped_total", "Log lines lost: 8 MiB were waiting for stderr, or stderr refused them.",
            [&log] { return static_cast<double>(log.dropped()); });
        spur::App application = app::build_app(*services);
        const spur::ServerOptions options = app::server_options(*config);
        spur::Server server(application, options);
        services->metrics.watch(server);
        server.start();
        std::optional<app::health::AdminListener> admin;
        if (!config->metrics_listen.empty()) {
            admin.emplace(*services, application, config->metrics_host, config->metrics_port);
            fmt::print(stderr, "spur-app: /metrics, /healthz and /readyz on {} (port {})\n", config->metrics_listen,
                       admin->port());
        }
        // From the sockets: under socket activation they are systemd's, whatever HOST says.
        for (const auto& url : server.urls())
            fmt::print(stderr, "spur-app: listening on {}{}\n", url, config->dev ? " (development)" : "");
        fmt::print(stderr, "spur-app: {}\n", config->docs_assets.empty() ? "API docs at /docs are off: no Swagger UI files (build with npm, or set DOCS_ASSETS)"
                                                                           : "API docs at /docs from " + config->docs_assets);
        fmt::print(stderr, "spur-app: {}\n", config->web_root.empty() ? "no web front end (build app/web or set WEB_ROOT): API only"
                                                                        : "web front end at / from " + config->web_root);
        server.run();
        admin.reset();
        // Close the database connections before reporting the stop.
        services.reset();
        pool.reset();
        log.flush();
        fmt::print(stderr, "spur-app: stopped\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "spur-app: %s\n", e.what());  // not fmt: it throws when stderr is gone
        return 1;
    }
}
