#include "health/repository.hpp"

namespace app::health {

spur::Task<> ping(spur::mysql::Pool& db) { co_await db.execute(spur::mysql::idempotent, "SELECT 1"); }

}  // namespace app::health
