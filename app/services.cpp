#include "services.hpp"

#include <spur/password.hpp>
#include <spur/random.hpp>

#include <algorithm>

namespace app {

namespace {
spur::middleware::RateLimitOptions throttle(unsigned burst, double per_second) {
    spur::middleware::RateLimitOptions o;
    o.burst = burst;
    o.per_second = per_second;
    o.max_keys = 100'000;
    return o;
}

// A search holds a pooled connection for up to max_statement_time: however many run, at least
// one connection stays for everything else (sign-in, readiness, other users' texts).
// (spur::mysql::Pool does not tell its configuration: read the same URL again.)
// The AI service runs beside the app: a refused connection is known at once, and three quick
// attempts fit in well under a second, so "unavailable" is answered within one. The summary
// call is a POST with an Idempotency-Key (a summary has no effect to repeat), so it may be
// retried; a stream already relayed is never sent again.
spur::HttpClientOptions ai_client_options(const Config& config) {
    spur::HttpClientOptions o;
    o.connect_timeout = std::chrono::milliseconds(500);
    o.timeout = config.ai_timeout;  // between two pieces of a stream; the call's deadline bounds the whole
    o.max_response_bytes = 4 * 1024 * 1024;
    o.max_idle_per_host = 4;
    o.user_agent = "spur-app";
    o.retry.max_attempts = 3;
    o.retry.initial_backoff = std::chrono::milliseconds(100);
    o.retry.max_backoff = std::chrono::milliseconds(200);
    o.retry.max_retry_after = std::chrono::seconds(2);
    return o;
}

spur::LogSink app_log(const Config& config) {
    if (config.log_sink) return config.log_sink;
    return spur::stderr_log_sink(spur::LogLevel::info,
                                 config.log_format == "json" ? spur::LogFormat::json : spur::LogFormat::text);
}

mail::MailerOptions mailer_options(const Config& config) {
    mail::MailerOptions o;
    o.smtp_url = config.smtp_url;
    o.username = config.smtp_username;
    o.password = config.smtp_password;
    o.require_tls = config.smtp_require_tls;
    o.ca_file = config.smtp_ca_file;
    o.timeout = config.smtp_timeout;
    o.connect_timeout = std::min<std::chrono::milliseconds>(config.smtp_timeout, std::chrono::seconds(10));
    o.mail_dir = config.mail_dir;
    o.from = config.smtp_from;
    return o;
}

// A mail job holds one pooled connection at a time (a token's write), and a blocking thread
// while it talks SMTP: JOB_CONCURRENCY of them leave the pool to the requests.
spur::mysql::JobsOptions jobs_options(const Config& config) {
    spur::mysql::JobsOptions o;
    o.concurrency = config.job_concurrency;
    o.poll = std::chrono::milliseconds(config.job_poll_ms);
    return o;
}

std::size_t search_limit(const Config& config) {
    const std::size_t pool_max = database_config(config).pool_max;
    return std::max<std::size_t>(1, std::min(config.max_searches, pool_max > 1 ? pool_max - 1 : 1));
}
}  // namespace

Services::Services(Config c, spur::mysql::Pool& pool)
    : config(std::move(c)),
      log(app_log(config)),
      db(pool),
      jwt(config.jwt_secret, config.jwt_leeway),
      login_by_ip(throttle(config.login_burst_per_ip, 1.0 / 6)),
      login_by_email(throttle(config.login_burst_per_email, 1.0 / 12)),
      register_by_ip(throttle(config.register_burst_per_ip, 1.0 / 20)),
      reset_by_ip(throttle(config.reset_burst_per_ip, 1.0 / 60)),
      reset_by_email(throttle(config.mail_burst_per_address, 1.0 / 300)),
      verify_by_account(throttle(config.mail_burst_per_address, 1.0 / 300)),
      searches(search_limit(config)),
      summaries(config.max_summaries),
      ai(ai_client_options(config)),
      sign_in("sign-in", config.offload_queue),
      account("account", std::max<std::size_t>(1, config.offload_queue / 4)),
      metrics(pool),
      dummy_hash(spur::hash_password(spur::random_token(16), config.bcrypt_cost)),
      mailer(mailer_options(config)),
      jobs(pool, jobs_options(config)),
      idempotency(pool) {
    jobs.collect_metrics(metrics.registry());
}

}  // namespace app
