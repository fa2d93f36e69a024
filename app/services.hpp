#pragma once
// What the handlers share: settings, the database pool, token signing, login throttles,
// admission of expensive work (searches, password checks), metrics, the log, mail and the
// durable job queue that sends it.

#include "config.hpp"
#include "health/metrics.hpp"
#include "in_flight.hpp"
#include "mail/mailer.hpp"

#include <spur/http_client.hpp>
#include <spur/jwt.hpp>
#include <spur/log.hpp>
#include <spur/middleware/rate_limit.hpp>
#include <spur/mysql/idempotency_store.hpp>
#include <spur/mysql/jobs.hpp>
#include <spur/mysql/pool.hpp>
#include <spur/offload.hpp>

#include <string>

namespace app {

struct Services {
    Services(Config c, spur::mysql::Pool& pool);

    Config config;
    /// The app's log (build_app gives it to the App): LOG_FORMAT's text or JSON on stderr, or
    /// config.log_sink. Jobs log through it too, outside any request.
    spur::LogSink log;
    spur::mysql::Pool& db;
    spur::Jwt jwt;
    spur::middleware::RateLimiter login_by_ip;     ///< 10 at once, then one every 6 s
    spur::middleware::RateLimiter login_by_email;  ///< 5 at once, then one every 12 s
    spur::middleware::RateLimiter register_by_ip;  ///< 10 at once, then one every 20 s
    spur::middleware::RateLimiter reset_by_ip;       ///< password-reset requests: 10 at once, then one every 60 s
    spur::middleware::RateLimiter reset_by_email;    ///< by lower-cased address: 3 at once, then one every 5 min
    spur::middleware::RateLimiter verify_by_account; ///< verification mails: 3 at once, then one every 5 min
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
    mail::Mailer mailer;     ///< SMTP_URL, or MAIL_DIR's files, or off
    /// The durable queue in the `spur_jobs` table (migration 010): mails are enqueued in the
    /// transaction of the write that asks for them and sent by the workers of any instance.
    spur::mysql::Jobs jobs;
    /// Idempotency-Key answers in `spur_idempotency` (migration 011), seen by every instance:
    /// a write retried through another instance is replayed there, not run twice.
    spur::mysql::IdempotencyStore idempotency;
    /// Whether an App already serves `jobs` (build_app): a second App built on these services —
    /// for its OpenAPI document — documents the routes but runs no workers.
    bool jobs_served = false;
};

}  // namespace app
