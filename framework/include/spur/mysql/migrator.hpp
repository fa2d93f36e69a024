#pragma once
// spur::mysql::Migrator — versioned schema migrations, applied once each, recorded with checksums.

#include <spur/mysql/config.hpp>
#include <spur/mysql/pool.hpp>
#include <spur/mysql/value.hpp>
#include <spur/task.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spur::mysql {

/// One migration: SQL text (several `;`-separated statements allowed) with a version that
/// orders it. `name` is recorded beside the version; a directory source uses the file's stem
/// ("001_users" for 001_users.sql).
struct Migration {
    int version = 0;
    std::string name;
    std::string sql;
};

/// Reads every `NNN_name.sql` file directly in `directory` (other files are ignored), in
/// version order. Blocking: call it before the loop runs, or through spur::offload (a Migrator
/// made from a directory does). Throws std::invalid_argument for a `.sql` file whose name does
/// not start with a version and `_`, or two files with one version; std::runtime_error when the
/// directory or a file cannot be read.
std::vector<Migration> read_migrations(const std::filesystem::path& directory);

/// The hex SHA-256 of a migration's SQL, as recorded (64 lowercase characters).
std::string migration_checksum(std::string_view sql);

enum class MigrationState {
    pending,  ///< in the sources, not applied
    applied,  ///< applied, and its source still has the recorded checksum (or none was recorded yet)
    changed,  ///< applied, but its source changed since: apply() and pending() refuse to run
    missing,  ///< applied, but not among the sources (a newer program applied it): a warning only
};

/// One line of Migrator::status().
struct MigrationStatus {
    int version = 0;
    std::string name;                    ///< the source's; the recorded one for `missing`
    MigrationState state = MigrationState::pending;
    std::optional<DateTime> applied_at;  ///< UTC; empty when pending
    std::string checksum;                ///< the source's; empty for `missing`
    std::string recorded_checksum;       ///< empty when pending, or applied before checksums were kept
};

struct MigratorOptions {
    /// The bookkeeping table (letters, digits, `_`; at most 59 characters); the lease lives in
    /// `<table>_lock`. Several applications may share a database with a table each.
    std::string table = "schema_migrations";
    /// How long a migrator's hold on `<table>_lock` lasts without renewal. It is renewed before
    /// each migration, so one killed mid-way holds the others up for this long at most; a single
    /// migration running longer than this may be started a second time by another migrator.
    /// The migrator's connections also give up on a statement after max(query_timeout, lease).
    std::chrono::milliseconds lease = std::chrono::minutes(5);
    /// How long apply() waits for another migrator's lease before throwing Error.
    std::chrono::milliseconds lease_wait = std::chrono::minutes(6);
    /// How often a waiting migrator looks at the lease again.
    std::chrono::milliseconds lease_poll = std::chrono::milliseconds(200);
};

/// Applies versioned migrations to one database, each at most once however many migrators run
/// at once — on one server or on the nodes of a Galera cluster:
///     spur::mysql::Migrator migrator(config, spur::mysql::read_migrations("migrations"));
///     auto applied = co_await migrator.apply();
///
/// Bookkeeping: one row per applied migration in `schema_migrations` (version, name, SHA-256
/// checksum of its SQL, applied_at). An applied migration whose source changed makes apply()
/// and pending() throw Error naming it (version and name); status() reports it as `changed`.
/// A table made before checksums were kept gains the column on the next apply(), and its
/// rows with no checksum take their source's current one then (trusted on that first run). A
/// row whose checksum is set to NULL by hand is trusted again the same way.
///
/// Exclusion: apply() holds a row lease in `<table>_lock` (an INSERT that only one migrator
/// wins, replicated and certified by Galera; GET_LOCK would be per node) while it reads what is
/// applied and applies the rest; the others wait for it, then find nothing left to do.
///
/// Transactions: each migration runs in a transaction with the INSERT that records it, so a
/// migration of data statements (INSERT, UPDATE, DELETE) is applied and recorded together or
/// not at all. MariaDB commits implicitly before and after DDL (CREATE, ALTER, DROP, RENAME…):
/// in a migration with DDL, what ran before a failing statement stays applied, the version is
/// not recorded, and the next apply() runs the whole file again. The same happens when the
/// migrator is killed between a migration's DDL and its record. So write every migration with
/// DDL to run twice (CREATE TABLE IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, …). The error says
/// which case happened.
///
/// It opens its own connections from `config` (multi-statement queries on, the statement time
/// limit off), never an application's pool. Its methods may run concurrently.
class Migrator {
public:
    /// Migrations compiled in, or read beforehand. Throws std::invalid_argument for two with one
    /// version, a version < 1, or a bad table name.
    Migrator(const Config& config, std::vector<Migration> migrations, MigratorOptions options = {});
    /// Migrations read from `directory` (read_migrations) on the blocking pool at each call.
    Migrator(const Config& config, std::filesystem::path directory, MigratorOptions options = {});
    ~Migrator();
    Migrator(const Migrator&) = delete;
    Migrator& operator=(const Migrator&) = delete;

    /// Every migration, applied or pending, and every applied one missing from the sources, in
    /// version order. Reads only (a database never migrated lists all as pending). Throws Error.
    Task<std::vector<MigrationStatus>> status();
    /// The migrations not applied yet, in version order. Reads only. Throws Error when an applied
    /// migration's source changed.
    Task<std::vector<Migration>> pending();
    /// Applies the pending migrations in version order under the lease and returns them (empty
    /// when there were none). Creates the tables it needs. Throws Error when an applied
    /// migration's source changed (nothing is applied then), when the lease stays taken for
    /// lease_wait, or naming the migration that failed (those before it stay applied).
    Task<std::vector<Migration>> apply();

private:
    Task<std::shared_ptr<const std::vector<Migration>>> sources();

    std::shared_ptr<const std::vector<Migration>> list_;
    std::optional<std::filesystem::path> directory_;
    MigratorOptions options_;
    Pool pool_;
};

/// The `migrate` command of an application's CLI, in two lines of its main():
///     if (auto rc = spur::mysql::migrate_cli(argc, argv, db_config, migrations)) return *rc;
/// Answers when the first argument is `migrate` (anywhere else it may be a flag's value); the
/// argument after it picks the subcommand:
/// - `migrate`, `migrate up`: apply() and print "PROG: N migration(s) applied [1, 2]" on
///   stderr (with a warning line for each applied migration missing from the sources);
/// - `migrate status`: print status() as a table on stdout.
/// Returns 0 when it succeeded; 1 when it failed (the error printed as "PROG: <what>") or,
/// for status, when an applied migration's source changed; 2 for another word after `migrate`
/// (a flag there is the application's); nullopt when the first argument is not `migrate` (the
/// application goes on). PROG is argv[0]'s file name.
std::optional<int> migrate_cli(int argc, char** argv, const Config& config, std::vector<Migration> migrations,
                               MigratorOptions options = {});
/// As above, with the migrations of `directory` (read_migrations).
std::optional<int> migrate_cli(int argc, char** argv, const Config& config, const std::filesystem::path& directory,
                               MigratorOptions options = {});

}  // namespace spur::mysql
