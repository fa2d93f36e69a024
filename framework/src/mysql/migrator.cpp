#include <spur/mysql/migrator.hpp>

#include "mysql/migration_lease.hpp"

#include <spur/mysql/error.hpp>
#include <spur/offload.hpp>

#include <fmt/core.h>

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace spur::mysql {

namespace {

// What the bookkeeping table holds for one applied migration.
struct Recorded {
    std::string name;
    std::string checksum;  // empty: applied before checksums were kept (or reset by hand)
    std::optional<DateTime> applied_at;
};

std::string migration_label(int version, std::string_view name) {
    return fmt::format("migration {} ({})", version, name);
}

bool valid_table_name(const std::string& t) {
    return !t.empty() && t.size() <= 59 && std::all_of(t.begin(), t.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    });
}

std::vector<Migration> in_version_order(std::vector<Migration> all) {
    std::sort(all.begin(), all.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].version < 1)
            throw std::invalid_argument(migration_label(all[i].version, all[i].name) + ": versions start at 1");
        if (i > 0 && all[i].version == all[i - 1].version)
            throw std::invalid_argument(fmt::format("migrations {} and {} have the same version {}", all[i - 1].name,
                                                    all[i].name, all[i].version));
    }
    return all;
}

// Another tool's table of the same name (golang-migrate's, Rails') is not ours to read or write.
void check_ours(const std::string& table, const std::vector<std::string>& columns) {
    for (const char* column : {"version", "name", "applied_at"})
        if (std::find(columns.begin(), columns.end(), column) == columns.end())
            throw Error(0, "HY000", fmt::format("{} is not a spur migrations table (it has no column '{}'): name another "
                                                "with MigratorOptions::table", table, column));
}

// The rows of `table`; none when it does not exist yet. SELECT * over the text protocol: a
// table from before checksums has no such column, and a prepared statement would keep the
// column list it was prepared with.
Task<std::map<int, Recorded>> read_recorded(Connection& c, const std::string& table) {
    Result r;
    try {
        r = co_await c.query("SELECT * FROM " + table);
    } catch (const Error& e) {
        if (e.number() != 1146) throw;  // ER_NO_SUCH_TABLE: never migrated
        co_return std::map<int, Recorded>{};
    }
    auto has = [&](std::string_view column) {
        return r.columns && std::find(r.columns->begin(), r.columns->end(), column) != r.columns->end();
    };
    check_ours(table, r.columns ? *r.columns : std::vector<std::string>{});
    const bool has_checksum = has("checksum");
    std::map<int, Recorded> out;
    for (const auto& row : r) {
        Recorded rec{row.get<std::string>("name"), {}, row.get<std::optional<DateTime>>("applied_at")};
        if (has_checksum) rec.checksum = row.get<std::optional<std::string>>("checksum").value_or("");
        out.emplace(row.get<int>("version"), std::move(rec));
    }
    co_return out;
}

// Throws when an applied migration's source is not what was applied.
void verify_checksums(const std::vector<Migration>& sources, const std::map<int, Recorded>& recorded) {
    for (const auto& m : sources) {
        auto it = recorded.find(m.version);
        if (it == recorded.end() || it->second.checksum.empty()) continue;
        const auto now = migration_checksum(m.sql);
        if (now != it->second.checksum)
            throw Error(0, "HY000",
                        fmt::format("{} changed since it was applied (checksum {}, now {}): restore its SQL, and make "
                                    "the change a new migration",
                                    migration_label(m.version, m.name), it->second.checksum.substr(0, 12), now.substr(0, 12)));
    }
}

// Creates the bookkeeping table, or gives one from before checksums its column. Under the lease.
Task<> prepare_table(Connection& c, const std::string& table) {
    co_await c.query("CREATE TABLE IF NOT EXISTS " + table +
                     " (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, checksum CHAR(64) NULL, "
                     "applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    auto columns = co_await c.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                                      "AND TABLE_NAME = ?",
                                      table);
    std::vector<std::string> names;
    for (const auto& row : columns) names.push_back(row.get<std::string>(0));
    check_ours(table, names);  // before changing anything in it
    if (std::find(names.begin(), names.end(), "checksum") == names.end())
        co_await c.query("ALTER TABLE " + table + " ADD COLUMN checksum CHAR(64) NULL AFTER name");
}

// Runs `m` and records it in one transaction. Throws Error naming it, saying what stays applied.
Task<> apply_one(Connection& c, const std::string& table, const Migration& m) {
    std::optional<Error> failed;
    co_await c.begin();
    try {
        co_await c.query(m.sql);
        co_await c.execute("INSERT INTO " + table + " (version, name, checksum) VALUES (?, ?, ?)", m.version, m.name,
                           migration_checksum(m.sql));
        co_await c.commit();
        co_return;
    } catch (const Error& e) {
        failed.emplace(e);
    }
    // Whether the transaction is still open tells whether a DDL statement committed (MariaDB
    // commits before and after one, failing or not). The status flags come with each answer,
    // so ask once more: the failing statement's error carried none.
    bool open = false;
    if (!c.broken()) {
        try {
            co_await c.query("DO 0");
            open = c.in_transaction();
        } catch (const Error&) {
        }
    }
    co_await c.rollback_or_discard();
    throw Error(failed->number(), failed->sqlstate(),
                fmt::format("{} failed: {}; {}; it is not recorded as applied", migration_label(m.version, m.name),
                            failed->what(),
                            open ? "rolled back, nothing of it stays applied"
                                 : "it had committed implicitly (DDL), so its statements before the failing one "
                                   "stay applied"));
}

}  // namespace

std::string migration_checksum(std::string_view sql) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(sql.data(), sql.size(), digest, &size, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    std::string hex;
    hex.reserve(size * 2);
    for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

std::vector<Migration> read_migrations(const std::filesystem::path& directory) {
    std::vector<Migration> all;
    std::error_code ec;
    std::filesystem::directory_iterator it(directory, ec), end;
    if (ec) throw std::runtime_error("cannot read the migrations directory " + directory.string() + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
        const auto& path = it->path();
        if (path.extension() != ".sql" || !it->is_regular_file()) continue;
        const std::string stem = path.stem().string();
        const auto digits = stem.find_first_not_of("0123456789");
        if (digits == 0 || digits == std::string::npos || stem[digits] != '_' || digits > 9)
            throw std::invalid_argument("migration " + path.string() + " must be named NNN_name.sql");
        std::ifstream in(path, std::ios::binary);
        std::ostringstream sql;
        sql << in.rdbuf();
        if (!in) throw std::runtime_error("cannot read migration " + path.string());
        all.push_back(Migration{std::stoi(stem.substr(0, digits)), stem, std::move(sql).str()});
    }
    if (ec) throw std::runtime_error("cannot read the migrations directory " + directory.string() + ": " + ec.message());
    return in_version_order(std::move(all));
}

namespace {
Config migrator_config(Config c, const MigratorOptions& options) {
    if (!valid_table_name(options.table))
        throw std::invalid_argument("migration table name must be 1 to 59 letters, digits or _: " + options.table);
    c.multi_statements = true;  // a migration file holds several statements; an app's pool never may
    c.max_statement_time = {};  // a schema change takes as long as it takes...
    c.query_timeout = std::max(c.query_timeout, options.lease);  // ...within the lease
    c.pool_min = 0;
    c.pool_max = 2;  // the lease's connection, and one to release it if that one broke
    return c;
}
}  // namespace

Migrator::Migrator(const Config& config, std::vector<Migration> migrations, MigratorOptions options)
    : list_(std::make_shared<const std::vector<Migration>>(in_version_order(std::move(migrations)))),
      options_(std::move(options)),
      pool_(migrator_config(config, options_)) {}

Migrator::Migrator(const Config& config, std::filesystem::path directory, MigratorOptions options)
    : directory_(std::move(directory)), options_(std::move(options)), pool_(migrator_config(config, options_)) {}

Migrator::~Migrator() = default;

Task<std::shared_ptr<const std::vector<Migration>>> Migrator::sources() {
    if (list_) co_return list_;
    // Reading files blocks: never on the caller's I/O thread.
    auto read = [this] { return std::make_shared<const std::vector<Migration>>(read_migrations(*directory_)); };
    co_return co_await spur::offload(read);
}

Task<std::vector<MigrationStatus>> Migrator::status() {
    auto all = co_await sources();
    std::map<int, Recorded> recorded;
    {
        auto c = co_await pool_.acquire();
        recorded = co_await read_recorded(*c, options_.table);
    }
    std::vector<MigrationStatus> out;
    for (const auto& m : *all) {
        MigrationStatus s{m.version, m.name, MigrationState::pending, std::nullopt, migration_checksum(m.sql), {}};
        if (auto it = recorded.find(m.version); it != recorded.end()) {
            s.applied_at = it->second.applied_at;
            s.recorded_checksum = it->second.checksum;
            s.state = s.recorded_checksum.empty() || s.recorded_checksum == s.checksum ? MigrationState::applied
                                                                                      : MigrationState::changed;
            recorded.erase(it);
        }
        out.push_back(std::move(s));
    }
    for (auto& [version, rec] : recorded)
        out.push_back(MigrationStatus{version, rec.name, MigrationState::missing, rec.applied_at, {}, rec.checksum});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
    co_return out;
}

Task<std::vector<Migration>> Migrator::pending() {
    auto all = co_await sources();
    std::map<int, Recorded> recorded;
    {
        auto c = co_await pool_.acquire();
        recorded = co_await read_recorded(*c, options_.table);
    }
    verify_checksums(*all, recorded);
    std::vector<Migration> out;
    for (const auto& m : *all)
        if (!recorded.count(m.version)) out.push_back(m);
    co_return out;
}

Task<std::vector<Migration>> Migrator::apply() {
    auto all = co_await sources();
    const std::string& table = options_.table;
    std::optional<PooledConnection> c(co_await pool_.acquire());
    auto lease = co_await detail::MigrationLease::take(**c, options_);
    std::vector<Migration> done;
    std::exception_ptr failure;
    // Everything from reading what is applied to the last migration happens under the lease, so
    // two migrators never both find a version missing and both apply it.
    try {
        Connection& conn = **c;
        Task<> preparing = detail::repeat_on_conflict("preparing " + table, [&]() -> Task<> { co_await prepare_table(conn, table); });
        co_await std::move(preparing);
        std::map<int, Recorded> recorded;
        Task<> reading = detail::repeat_on_conflict("reading " + table, [&]() -> Task<> { recorded = co_await read_recorded(conn, table); });
        co_await std::move(reading);
        verify_checksums(*all, recorded);
        for (const auto& m : *all) {
            auto it = recorded.find(m.version);
            if (it == recorded.end() || !it->second.checksum.empty()) continue;
            // Applied before checksums were kept (or reset by hand): trust the current source.
            Task<> filling = detail::repeat_on_conflict("recording checksums in " + table, [&]() -> Task<> {
                co_await conn.execute("UPDATE " + table + " SET checksum = ? WHERE version = ? AND (checksum IS NULL OR checksum = '')",
                                      migration_checksum(m.sql), m.version);
            });
            co_await std::move(filling);
        }
        for (const auto& m : *all) {
            if (recorded.count(m.version)) continue;
            co_await lease.renew(conn);
            // Aborted by Galera (another node's DDL, a lost certification): run it again whole —
            // rolled back if it held data statements only, written to run twice if it held DDL.
            Task<> applying = detail::repeat_on_conflict("", [&]() -> Task<> { co_await apply_one(conn, table, m); });
            co_await std::move(applying);
            done.push_back(m);
        }
    } catch (...) {
        failure = std::current_exception();
    }
    try {
        if ((*c)->broken()) {  // lost mid-way: release the lease through a new connection
            c.reset();
            auto fresh = co_await pool_.acquire();
            c.emplace(std::move(fresh));
        }
        co_await lease.release(**c);
    } catch (const Error&) {
        if (!failure) throw;  // the first failure is the one to report; the lease then expires
    }
    if (failure) std::rethrow_exception(failure);
    co_return done;
}

}  // namespace spur::mysql
