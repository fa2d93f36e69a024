// spur-app's compiled-in migrations (app/embed_migrations.cmake) against the files they come
// from, and each safe to run twice.
#include "harness.hpp"
#include "migrate.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <exception>
#include <string>

TEST_CASE("the compiled-in migrations are app/migrations byte for byte, so both sources record one checksum", "[app]") {
    const auto files = spur::mysql::read_migrations(SPUR_APP_MIGRATIONS_DIR);
    const auto& embedded = app::file_migrations();  // migrations() adds the framework's (Jobs: 010)
    REQUIRE(embedded.size() == files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
        CHECK(embedded[i].version == files[i].version);
        CHECK(embedded[i].name == files[i].name);
        CHECK(spur::mysql::migration_checksum(embedded[i].sql) == spur::mysql::migration_checksum(files[i].sql));
    }
}

TEST_CASE("every migration runs a second time without error - a migrator killed before recording it can rerun it", "[app]") {
    // DDL commits at once in MariaDB: a migrator killed between a migration's DDL and the row
    // that records it leaves it applied, and the next `migrate` runs the whole file again.
    app::test::Running running;  // every migration applied to the test database
    auto config = spur::mysql::parse_url(spur::test::database_url());
    config.multi_statements = true;
    boost::asio::io_context io;
    std::exception_ptr failure;
    std::string failed;
    {
        spur::mysql::Pool pool(config);
        boost::asio::co_spawn(io, [&]() -> spur::Task<> {
            for (const auto& m : app::migrations()) {
                failed = m.name;
                co_await pool.query(m.sql);
            }
            failed.clear();
        }, [&](std::exception_ptr e) { failure = e; });
        io.run();
    }
    INFO("migration " << failed);
    CHECK_FALSE(failure);
    CHECK(failed.empty());
}
