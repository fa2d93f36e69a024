// spur::mysql::Migrator against the real MariaDB: fresh and incremental runs, checksums and the
// upgrade of a table from before them, directory sources, status, concurrent migrators, failures,
// and the migrate CLI. Each case has its own table prefix (mg_<case>_), so cases never share state.
#include <spur/mysql/migrator.hpp>

#include "support.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <unistd.h>

using namespace spur;
using namespace spur::mysql;
using spur::test::run;
using spur::test::test_db;

namespace {

MigratorOptions table(std::string prefix) {
    MigratorOptions o;
    o.table = prefix + "_migrations";
    // A lease left behind would fail a case in seconds instead of holding it for minutes.
    o.lease_wait = std::chrono::seconds(20);
    return o;
}

// Drops the tables of a case: its bookkeeping table, its lease table, and `others` (a comma
// list: a braced list inside a co_await expression is what GCC 12 miscompiles).
Task<> drop_tables(Pool& pool, std::string prefix, std::string others) {
    co_await pool.query("DROP TABLE IF EXISTS " + prefix + "_migrations, " + prefix + "_migrations_lock, " + others);
}

Task<std::vector<int>> recorded_versions(Pool& pool, const std::string& prefix) {
    std::vector<int> out;
    for (const auto& row : co_await pool.execute("SELECT version FROM " + prefix + "_migrations ORDER BY version"))
        out.push_back(row.get<int>(0));
    co_return out;
}

std::vector<int> versions_of(const std::vector<Migration>& ms) {
    std::vector<int> out;
    for (const auto& m : ms) out.push_back(m.version);
    return out;
}

std::string error_text(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    }
}

// A private temporary directory, removed at the end of the case.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& name)
        : path(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    void write(const std::string& file, const std::string& text) const { std::ofstream(path / file) << text; }
};

}  // namespace

TEST_CASE("a fresh database gets every migration once and in order, each recorded with its checksum", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    const std::vector<Migration> ms = {
        {2, "002_rows", "INSERT INTO mg_fresh_t (id) VALUES (1); INSERT INTO mg_fresh_t (id) VALUES (2)"},
        {1, "001_table", "CREATE TABLE mg_fresh_t (id INT PRIMARY KEY) ENGINE=InnoDB"},
        {3, "003_column", "ALTER TABLE mg_fresh_t ADD COLUMN note VARCHAR(10) NULL"},
    };
    Migrator migrator(test_db(), ms, table("mg_fresh"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_fresh", "mg_fresh_t");
        auto before = co_await migrator.pending();
        CHECK(versions_of(before) == std::vector<int>{1, 2, 3});
        auto applied = co_await migrator.apply();
        CHECK(versions_of(applied) == std::vector<int>{1, 2, 3});
        auto again = co_await migrator.apply();
        CHECK(again.empty());
        auto after = co_await migrator.pending();
        CHECK(after.empty());
        auto rows = co_await pool.execute("SELECT COUNT(*) FROM mg_fresh_t WHERE note IS NULL");
        CHECK(rows.front().get<int>(0) == 2);
        auto recorded = co_await pool.execute("SELECT version, name, checksum FROM mg_fresh_migrations ORDER BY version");
        REQUIRE(recorded.size() == 3);
        for (const auto& m : ms) {
            const auto& row = recorded.rows[static_cast<std::size_t>(m.version - 1)];
            CHECK(row.get<std::string>("name") == m.name);
            CHECK(row.get<std::string>("checksum") == migration_checksum(m.sql));
        }
        auto lock = co_await pool.execute("SELECT COUNT(*) FROM mg_fresh_migrations_lock");
        CHECK(lock.front().get<int>(0) == 0);  // the lease is given back
    }());
}

TEST_CASE("a migration added later is the only one the next run applies", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    std::vector<Migration> ms = {{1, "001_a", "CREATE TABLE mg_incr_a (id INT) ENGINE=InnoDB"},
                                 {2, "002_b", "CREATE TABLE mg_incr_b (id INT) ENGINE=InnoDB"}};
    Migrator first(test_db(), ms, table("mg_incr"));
    ms.push_back({3, "003_c", "CREATE TABLE mg_incr_c (id INT) ENGINE=InnoDB"});
    Migrator later(test_db(), ms, table("mg_incr"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_incr", "mg_incr_a, mg_incr_b, mg_incr_c");
        auto one = co_await first.apply();
        CHECK(versions_of(one) == std::vector<int>{1, 2});
        auto pending = co_await later.pending();
        CHECK(versions_of(pending) == std::vector<int>{3});
        auto two = co_await later.apply();
        CHECK(versions_of(two) == std::vector<int>{3});
        const auto recorded1 = co_await recorded_versions(pool, "mg_incr");
        CHECK(recorded1 == std::vector<int>{1, 2, 3});
    }());
}

TEST_CASE("an applied migration whose SQL changed is an error naming its version and name", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    Migrator original(test_db(), {{1, "001_users", "CREATE TABLE mg_sum_t (id INT) ENGINE=InnoDB"}}, table("mg_sum"));
    Migrator edited(test_db(),
                    {{1, "001_users", "CREATE TABLE mg_sum_t (id BIGINT) ENGINE=InnoDB"},
                     {2, "002_more", "CREATE TABLE mg_sum_u (id INT) ENGINE=InnoDB"}},
                    table("mg_sum"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_sum", "mg_sum_t, mg_sum_u");
        co_await original.apply();
        std::exception_ptr on_apply, on_pending;
        try {
            co_await edited.apply();
        } catch (const Error&) {
            on_apply = std::current_exception();
        }
        try {
            co_await edited.pending();
        } catch (const Error&) {
            on_pending = std::current_exception();
        }
        REQUIRE(on_apply);
        REQUIRE(on_pending);
        CHECK_THAT(error_text(on_apply), Catch::Contains("migration 1 (001_users) changed since it was applied"));
        CHECK_THAT(error_text(on_pending), Catch::Contains("migration 1 (001_users)"));
        const auto recorded2 = co_await recorded_versions(pool, "mg_sum");
        CHECK(recorded2 == std::vector<int>{1});  // 2 was not applied
        auto status = co_await edited.status();
        REQUIRE(status.size() == 2);
        CHECK(status[0].state == MigrationState::changed);
        CHECK(status[0].recorded_checksum != status[0].checksum);
        CHECK(status[1].state == MigrationState::pending);
    }());
}

TEST_CASE("a bookkeeping table from before checksums gains the column and trusts the current sources", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    const std::vector<Migration> ms = {{1, "001_old", "CREATE TABLE mg_upg_t (id INT) ENGINE=InnoDB"},
                                       {2, "002_new", "INSERT INTO mg_upg_t VALUES (7)"}};
    Migrator migrator(test_db(), ms, table("mg_upg"));
    Migrator edited(test_db(), {{1, "001_old", "CREATE TABLE mg_upg_t (id INT, x INT) ENGINE=InnoDB"}}, table("mg_upg"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_upg", "mg_upg_t");
        // What spur-app's own migrator left: no checksum column, version 1 applied.
        co_await pool.query("CREATE TABLE mg_upg_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, "
                            "applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB");
        co_await pool.query("CREATE TABLE mg_upg_t (id INT) ENGINE=InnoDB");
        co_await pool.execute("INSERT INTO mg_upg_migrations (version, name) VALUES (1, '001_old')");

        auto status = co_await migrator.status();  // reads the old table as it is
        REQUIRE(status.size() == 2);
        CHECK(status[0].state == MigrationState::applied);
        CHECK(status[0].recorded_checksum.empty());
        CHECK(status[0].applied_at.has_value());
        CHECK(status[1].state == MigrationState::pending);

        auto applied = co_await migrator.apply();
        CHECK(versions_of(applied) == std::vector<int>{2});
        auto sums = co_await pool.execute("SELECT version, checksum FROM mg_upg_migrations ORDER BY version");
        REQUIRE(sums.size() == 2);
        CHECK(sums.rows[0].get<std::string>(1) == migration_checksum(ms[0].sql));  // filled on that first run
        CHECK(sums.rows[1].get<std::string>(1) == migration_checksum(ms[1].sql));
        std::exception_ptr changed;
        try {
            co_await edited.pending();
        } catch (const Error&) {
            changed = std::current_exception();
        }
        REQUIRE(changed);  // from now on, checked
        CHECK_THAT(error_text(changed), Catch::Contains("migration 1 (001_old)"));
    }());
}

TEST_CASE("migrations read from a directory are applied like compiled-in ones, and reread at each run", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    TempDir dir("spur_migrator_dir");
    dir.write("002_rows.sql", "INSERT INTO mg_dir_t VALUES (1);\nINSERT INTO mg_dir_t VALUES (2);\n");
    dir.write("001_table.sql", "CREATE TABLE mg_dir_t (id INT PRIMARY KEY) ENGINE=InnoDB;\n");
    dir.write("README.md", "not a migration");
    const auto read = read_migrations(dir.path);
    REQUIRE(read.size() == 2);
    CHECK(read[0].version == 1);
    CHECK(read[0].name == "001_table");
    CHECK(read[1].sql == "INSERT INTO mg_dir_t VALUES (1);\nINSERT INTO mg_dir_t VALUES (2);\n");

    Migrator migrator(test_db(), dir.path, table("mg_dir"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_dir", "mg_dir_t");
        auto first = co_await migrator.apply();
        CHECK(versions_of(first) == std::vector<int>{1, 2});
    }());
    dir.write("010_more.sql", "INSERT INTO mg_dir_t VALUES (3)");
    run(io, [&]() -> Task<> {
        auto second = co_await migrator.apply();
        CHECK(versions_of(second) == std::vector<int>{10});
        auto count = co_await pool.execute("SELECT COUNT(*) FROM mg_dir_t");
        CHECK(count.front().get<int>(0) == 3);
    }());

    dir.write("0010_again.sql", "SELECT 1");
    CHECK_THROWS_AS(read_migrations(dir.path), std::invalid_argument);  // two files with version 10
    std::filesystem::remove(dir.path / "0010_again.sql");
    dir.write("notes.sql", "SELECT 1");
    CHECK_THROWS_AS(read_migrations(dir.path), std::invalid_argument);  // no version
    CHECK_THROWS_AS(read_migrations(dir.path / "absent"), std::runtime_error);
}

TEST_CASE("status lists applied, pending and missing migrations in version order", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    Migrator newer(test_db(),
                   {{1, "001_a", "CREATE TABLE mg_st_a (id INT) ENGINE=InnoDB"},
                    {2, "002_b", "CREATE TABLE mg_st_b (id INT) ENGINE=InnoDB"}},
                   table("mg_st"));
    const std::vector<Migration> older_list = {{1, "001_a", "CREATE TABLE mg_st_a (id INT) ENGINE=InnoDB"},
                                               {3, "003_c", "CREATE TABLE mg_st_c (id INT) ENGINE=InnoDB"}};
    Migrator older(test_db(), older_list, table("mg_st"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_st", "mg_st_a, mg_st_b, mg_st_c");
        auto untouched = co_await older.status();  // never migrated: all pending, nothing created
        REQUIRE(untouched.size() == 2);
        CHECK(untouched[0].state == MigrationState::pending);
        CHECK_FALSE(untouched[0].applied_at);
        co_await newer.apply();
        auto status = co_await older.status();
        REQUIRE(status.size() == 3);
        CHECK(status[0].version == 1);
        CHECK(status[0].state == MigrationState::applied);
        CHECK(status[0].checksum == status[0].recorded_checksum);
        CHECK(status[0].applied_at.has_value());
        CHECK(status[1].version == 2);
        CHECK(status[1].name == "002_b");
        CHECK(status[1].state == MigrationState::missing);  // a warning, not an error:
        auto pending = co_await older.pending();
        CHECK(versions_of(pending) == std::vector<int>{3});
        CHECK(status[2].state == MigrationState::pending);
        CHECK_FALSE(status[2].applied_at);
    }());
}

TEST_CASE("migrate_cli answers migrate, migrate up and migrate status, and leaves other commands alone", "[mysql]") {
    const std::vector<Migration> ms = {{1, "001_a", "CREATE TABLE mg_cli_a (id INT) ENGINE=InnoDB"}};
    {
        boost::asio::io_context io;
        Pool pool(test_db());
        run(io, drop_tables(pool, "mg_cli", "mg_cli_a"));
    }
    auto cli = [&](std::vector<std::string> words) {
        std::vector<char*> argv;
        for (auto& w : words) argv.push_back(w.data());
        return migrate_cli(static_cast<int>(argv.size()), argv.data(), test_db(), ms, table("mg_cli"));
    };
    CHECK(cli({"/usr/bin/app", "serve", "--port", "1"}) == std::nullopt);
    CHECK(cli({"app", "migrate", "down"}) == 2);
    CHECK(cli({"app", "migrate", "status"}) == 0);
    CHECK(cli({"app", "migrate"}) == 0);
    CHECK(cli({"app", "migrate", "up", "--flag", "x"}) == 0);
    // Only the first argument is the command: elsewhere `migrate` may be a flag's value.
    CHECK(cli({"app", "serve", "--host", "migrate"}) == std::nullopt);
    CHECK(cli({"app", "--dev", "migrate", "status"}) == std::nullopt);
    boost::asio::io_context io;
    Pool pool(test_db());
    CHECK(run(io, recorded_versions(pool, "mg_cli")) == std::vector<int>{1});
    run(io, pool.query("UPDATE mg_cli_migrations SET checksum = REPEAT('0', 64)"));
    CHECK(cli({"app", "migrate", "status"}) == 1);  // a changed migration fails the status check
    CHECK(cli({"app", "migrate"}) == 1);            // and the run
}

TEST_CASE("concurrent migrators on one database apply each migration exactly once", "[mysql][concurrency]") {
    const std::vector<Migration> ms = {
        {1, "001_table", "CREATE TABLE mg_conc_t (migration INT NOT NULL) ENGINE=InnoDB"},
        {2, "002_row", "INSERT INTO mg_conc_t VALUES (2)"},
        {3, "003_column", "ALTER TABLE mg_conc_t ADD COLUMN note INT NULL"},
        {4, "004_rows", "INSERT INTO mg_conc_t (migration) VALUES (4); INSERT INTO mg_conc_t (migration) VALUES (4)"},
        {5, "005_row", "INSERT INTO mg_conc_t (migration) VALUES (5)"},
    };
    {
        boost::asio::io_context io;
        Pool pool(test_db());
        run(io, drop_tables(pool, "mg_conc", "mg_conc_t"));
    }
    // Four migrators, each with its own pool, started at once on two threads.
    std::vector<std::unique_ptr<Migrator>> migrators;
    for (int i = 0; i < 4; ++i) migrators.push_back(std::make_unique<Migrator>(test_db(), ms, table("mg_conc")));
    boost::asio::io_context io;
    std::mutex mutex;
    std::vector<int> applied;  // every version any migrator applied
    std::vector<std::exception_ptr> failures;
    for (auto& m : migrators)
        boost::asio::co_spawn(io, m->apply(), [&](std::exception_ptr e, std::vector<Migration> done) {
            std::lock_guard lock(mutex);
            if (e) failures.push_back(e);
            for (const auto& d : done) applied.push_back(d.version);
        });
    std::thread second([&] { io.run(); });
    io.run();
    second.join();
    for (const auto& e : failures) FAIL(error_text(e));
    std::sort(applied.begin(), applied.end());
    CHECK(applied == std::vector<int>{1, 2, 3, 4, 5});

    boost::asio::io_context check;
    Pool pool(test_db());
    CHECK(run(check, recorded_versions(pool, "mg_conc")) == std::vector<int>{1, 2, 3, 4, 5});
    auto rows = run(check, pool.execute("SELECT migration, COUNT(*) FROM mg_conc_t GROUP BY migration ORDER BY migration"));
    REQUIRE(rows.size() == 3);
    CHECK(rows.rows[0].get<int>(1) == 1);  // 2 once
    CHECK(rows.rows[1].get<int>(1) == 2);  // 4's two rows once
    CHECK(rows.rows[2].get<int>(1) == 1);  // 5 once
}

TEST_CASE("a failing migration is named and not recorded: data statements roll back, DDL stays", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    const std::vector<Migration> bad = {
        {1, "001_table", "CREATE TABLE mg_fail_t (id INT PRIMARY KEY) ENGINE=InnoDB"},
        {2, "002_data", "INSERT INTO mg_fail_t VALUES (1); INSERT INTO mg_fail_absent VALUES (1)"},
        {3, "003_later", "CREATE TABLE mg_fail_later (id INT) ENGINE=InnoDB"},
    };
    const std::vector<Migration> fixed = {
        bad[0],
        {2, "002_data", "INSERT INTO mg_fail_t VALUES (1)"},
        bad[2],
        {4, "004_ddl", "CREATE TABLE mg_fail_ddl (id INT) ENGINE=InnoDB; INSERT INTO mg_fail_absent VALUES (1)"},
    };
    Migrator failing(test_db(), bad, table("mg_fail"));
    Migrator repaired(test_db(), fixed, table("mg_fail"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_fail", "mg_fail_t, mg_fail_later, mg_fail_ddl");
        std::exception_ptr data_failure;
        unsigned number = 0;
        try {
            co_await failing.apply();
        } catch (const Error& e) {
            data_failure = std::current_exception();
            number = e.number();
        }
        REQUIRE(data_failure);
        CHECK(number == 1146);  // the server's error, named
        CHECK_THAT(error_text(data_failure), Catch::Contains("migration 2 (002_data) failed"));
        CHECK_THAT(error_text(data_failure), Catch::Contains("rolled back"));
        const auto recorded3 = co_await recorded_versions(pool, "mg_fail");
        CHECK(recorded3 == std::vector<int>{1});
        auto rows = co_await pool.execute("SELECT COUNT(*) FROM mg_fail_t");
        CHECK(rows.front().get<int>(0) == 0);  // its first INSERT went with it
        auto later = co_await pool.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                           "AND TABLE_NAME = 'mg_fail_later'");
        CHECK(later.front().get<int>(0) == 0);  // nothing after it ran

        // The lease was given back: the repaired list runs at once, up to the DDL one that fails.
        std::exception_ptr ddl_failure;
        try {
            co_await repaired.apply();
        } catch (const Error&) {
            ddl_failure = std::current_exception();
        }
        REQUIRE(ddl_failure);
        CHECK_THAT(error_text(ddl_failure), Catch::Contains("migration 4 (004_ddl) failed"));
        CHECK_THAT(error_text(ddl_failure), Catch::Contains("committed implicitly"));
        const auto recorded4 = co_await recorded_versions(pool, "mg_fail");
        CHECK(recorded4 == std::vector<int>{1, 2, 3});
        auto ddl = co_await pool.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                         "AND TABLE_NAME = 'mg_fail_ddl'");
        CHECK(ddl.front().get<int>(0) == 1);  // its CREATE TABLE stays
    }());
}

TEST_CASE("another tool's table of the same name is refused by name - an emptied checksum is filled again", "[mysql]") {
    boost::asio::io_context io;
    Pool pool(test_db());
    const std::vector<Migration> ms = {{1, "001_t", "CREATE TABLE IF NOT EXISTS mg_own_t (id INT) ENGINE=InnoDB"}};
    Migrator foreign(test_db(), ms, table("mg_foreign"));
    Migrator own(test_db(), ms, table("mg_own"));
    run(io, [&]() -> Task<> {
        co_await drop_tables(pool, "mg_foreign", "mg_own_migrations, mg_own_migrations_lock, mg_own_t");
        // golang-migrate's shape: one row, a version and a dirty flag.
        co_await pool.query("CREATE TABLE mg_foreign_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)");
        std::exception_ptr refused;
        try {
            co_await foreign.apply();
        } catch (const Error&) {
            refused = std::current_exception();
        }
        REQUIRE(refused);
        CHECK_THAT(error_text(refused), Catch::Contains("mg_foreign_migrations is not a spur migrations table"));

        co_await own.apply();
        co_await pool.query("UPDATE mg_own_migrations SET checksum = ''");
        co_await own.apply();
        auto sums = co_await pool.execute("SELECT checksum FROM mg_own_migrations");
        REQUIRE(sums.size() == 1);
        CHECK(sums.rows[0].get<std::string>(0) == migration_checksum(ms[0].sql));
    }());
}
