#pragma once
// Versioned schema migrations from app/migrations, recorded in schema_migrations.

#include <spur/mysql/pool.hpp>

#include <string_view>
#include <vector>

namespace app {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

/// Every migration compiled into the binary, in version order.
const std::vector<Migration>& migrations();

/// Applies the pending migrations in order under a database lock (safe with several instances
/// starting at once) and returns their versions. Idempotent.
spur::Task<std::vector<int>> apply_migrations(spur::mysql::Pool& db);
/// The versions not yet applied.
spur::Task<std::vector<int>> pending_migrations(spur::mysql::Pool& db);

/// Runs apply_migrations (apply = true) or pending_migrations on a private, short-lived loop
/// and pool — for use before any server exists. Throws spur::mysql::Error.
std::vector<int> migrations_now(const spur::mysql::Config& db, bool apply);

}  // namespace app
