#pragma once
// The one query of the health checks.

#include <spur/mysql/pool.hpp>

namespace app::health {

/// A round trip to the database; throws spur::mysql::Error if it does not answer.
spur::Task<> ping(spur::mysql::Pool& db);

}  // namespace app::health
