#include "health/repository.hpp"

namespace app::health {

spur::Task<> ping(spur::mysql::Pool& db) { co_await db.execute("SELECT 1"); }

}  // namespace app::health
