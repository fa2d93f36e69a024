#include "services.hpp"

#include <spur/password.hpp>
#include <spur/random.hpp>

namespace app {

namespace {
spur::middleware::RateLimitOptions throttle(unsigned burst, double per_second) {
    spur::middleware::RateLimitOptions o;
    o.burst = burst;
    o.per_second = per_second;
    o.max_keys = 100'000;
    return o;
}
}  // namespace

Services::Services(Config c, spur::mysql::Pool& pool)
    : config(std::move(c)),
      db(pool),
      jwt(config.jwt_secret, config.jwt_leeway),
      login_by_ip(throttle(config.login_burst_per_ip, 1.0 / 6)),
      login_by_email(throttle(config.login_burst_per_email, 1.0 / 12)),
      register_by_ip(throttle(config.register_burst_per_ip, 1.0 / 20)),
      metrics(pool),
      dummy_hash(spur::hash_password(spur::random_token(16), config.bcrypt_cost)) {}

}  // namespace app
