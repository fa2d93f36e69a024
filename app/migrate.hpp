#pragma once
// spur-app's schema: the migrations of app/migrations, compiled in and applied by spur::mysql::Migrator.

#include <spur/mysql/migrator.hpp>

#include <vector>

namespace app {

/// Every migration of app/migrations, compiled into the binary (embed_migrations.cmake).
const std::vector<spur::mysql::Migration>& migrations();

/// Applies the pending migrations (apply = true; spur::mysql::Migrator::apply, safe with several
/// instances at once) or lists them, on a private short-lived loop — for use before any server
/// exists — and returns their versions. Throws spur::mysql::Error.
std::vector<int> migrations_now(const spur::mysql::Config& db, bool apply);

}  // namespace app
