#pragma once
// What the handlers share: settings, the database pool, token signing, login throttles,
// admission of expensive work (searches, password checks), metrics.

#include "config.hpp"
#include "health/metrics.hpp"
#include "in_flight.hpp"

#include <spur/http_client.hpp>
#include <spur/jwt.hpp>
#include <spur/middleware/rate_limit.hpp>
#include <spur/mysql/pool.hpp>
#include <spur/offload.hpp>

#include <string>

namespace app {

struct Services {
    Services(Config c, spur::mysql::Pool& pool);

    Config config;
    spur::mysql::Pool& db;
    spur::Jwt jwt;
    spur::middleware::RateLimiter login_by_ip;     ///< 10 at once, then one every 6 s
    spur::middleware::RateLimiter login_by_email;  ///< 5 at once, then one every 12 s
    spur::middleware::RateLimiter register_by_ip;  ///< 10 at once, then one every 20 s
    InFlight searches;        ///< one per account; at most max_searches, below the pool size
    InFlight password_checks; ///< one password operation (bcrypt) per account at a time
    InFlight summaries;       ///< one summary stream per account; at most max_summaries
    spur::HttpClient ai;      ///< calls the AI service (AI_SERVICE_URL)
    /// Password hashing has two shares of the blocking pool, so that a flood of account
    /// maintenance (password change, account deletion, key creation) cannot refuse sign-ins:
    /// sign_in (login, session, register) takes OFFLOAD_QUEUE jobs, account a quarter of that.
    spur::WorkClass sign_in;
    spur::WorkClass account;
    Metrics metrics;
    std::string dummy_hash;  ///< verified for unknown emails so both failures take as long
};

}  // namespace app
