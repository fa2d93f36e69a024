#pragma once
// spur-app's schema: the migrations of app/migrations, compiled in and applied by spur::mysql::Migrator.

#include <spur/mysql/migrator.hpp>

#include <vector>

namespace app {

/// Every migration of app/migrations, compiled into the binary (embed_migrations.cmake).
const std::vector<spur::mysql::Migration>& file_migrations();

/// spur-app's schema in version order: file_migrations() and the framework's tables — 010,
/// spur::mysql::Jobs' queue (`spur_jobs`, `spur_jobs_effects`). Version 011 is reserved (the
/// idempotency store).
const std::vector<spur::mysql::Migration>& migrations();

/// Applies the pending migrations (apply = true; spur::mysql::Migrator::apply, safe with several
/// instances at once) or lists them, on a private short-lived loop — for use before any server
/// exists — and returns their versions. Throws spur::mysql::Error.
std::vector<int> migrations_now(const spur::mysql::Config& db, bool apply);

}  // namespace app
