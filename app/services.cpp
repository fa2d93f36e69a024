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
std::size_t search_limit(const Config& config) {
    const std::size_t pool_max = database_config(config).pool_max;
    return std::max<std::size_t>(1, std::min(config.max_searches, pool_max > 1 ? pool_max - 1 : 1));
}
}  // namespace

Services::Services(Config c, spur::mysql::Pool& pool)
    : config(std::move(c)),
      db(pool),
      jwt(config.jwt_secret, config.jwt_leeway),
      login_by_ip(throttle(config.login_burst_per_ip, 1.0 / 6)),
      login_by_email(throttle(config.login_burst_per_email, 1.0 / 12)),
      register_by_ip(throttle(config.register_burst_per_ip, 1.0 / 20)),
      searches(search_limit(config)),
      sign_in("sign-in", config.offload_queue),
      account("account", std::max<std::size_t>(1, config.offload_queue / 4)),
      metrics(pool),
      dummy_hash(spur::hash_password(spur::random_token(16), config.bcrypt_cost)) {}

}  // namespace app
