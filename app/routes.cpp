#include "routes.hpp"

#include "api_keys/handlers.hpp"
#include "auth/guard.hpp"
#include "auth/handlers.hpp"
#include "health/handlers.hpp"
#include "texts/handlers.hpp"

#include <spur/middleware/access_log.hpp>
#include <spur/middleware/compression.hpp>
#include <spur/middleware/cors.hpp>
#include <spur/middleware/json_body.hpp>
#include <spur/middleware/request_id.hpp>
#include <spur/middleware/security_headers.hpp>
#include <spur/middleware/timeout.hpp>
#include <spur/mysql/error.hpp>

namespace app {

namespace mw = spur::middleware;
using namespace std::chrono_literals;

namespace {
// A database that is down or saturated is a 503 the client may retry, not an opaque 500;
// so is a statement the server stopped at max_statement_time.
spur::Middleware database_unavailable() {
    return [](spur::Request&, spur::Response&, spur::Next next) -> spur::Task<> {
        bool unavailable = false, too_slow = false;
        try {
            co_await next();
        } catch (const spur::mysql::Error& e) {
            if (e.statement_timeout()) too_slow = true;
            else if (e.connection_lost() || e.pool_timeout()) unavailable = true;
            else throw;
        }
        if (too_slow) throw spur::HttpError(503, "query_timeout", "The query took too long; narrow it down and try again");
        if (unavailable) throw spur::HttpError(503, "service_unavailable", "The database is unavailable, try again shortly");
    };
}

mw::AccessLogOptions log_options(const Config& config) {
    const std::string& format = config.log_format;
    mw::AccessLogOptions o;
    o.sink = config.access_log_sink;
    o.format = format == "json" ? mw::AccessLogFormat::json
               : format == "combined" ? mw::AccessLogFormat::combined
                                      : mw::AccessLogFormat::dev;
    return o;
}
}  // namespace

spur::App build_app(Services& s) {
    spur::App app;
    app.use(s.metrics.middleware());
    if (s.config.log_format != "off") app.use(mw::access_log(log_options(s.config)));
    app.use(mw::request_id());
    app.use(mw::security_headers());
    if (!s.config.cors_origins.empty()) {
        mw::CorsOptions cors;
        cors.origins = s.config.cors_origins;
        cors.allowed_headers = {"Authorization", "Content-Type", "X-API-Key", "X-Request-Id"};
        cors.exposed_headers = {"X-Request-Id", "Retry-After"};
        app.use(mw::cors(cors));
    }
    app.use(mw::compression());
    app.use(database_unavailable());

    mw::JsonBodyOptions small, large;
    small.limit = 64 * 1024;
    large.limit = 8 * 1024 * 1024;  // 1 MiB of content, JSON-escaped
    auto json = mw::json_body(small);
    auto text_json = mw::json_body(large);
    auto token = auth::require_token(s);
    auto token_or_key = auth::require_token_or_key(s);

    app.get("/healthz", health::healthz());
    app.get("/readyz", mw::timeout(2s), health::readyz(s));
    // Metrics belong on the admin listener (METRICS_LISTEN); here only if the operator opts in.
    if (s.config.public_metrics) app.get("/metrics", health::metrics(s));

    app.post("/api/auth/register", json, auth::register_user(s));
    app.post("/api/auth/login", json, auth::login(s));
    app.post("/api/auth/logout", token, auth::logout(s));
    app.post("/api/auth/logout-all", token, auth::logout_all(s));
    app.post("/api/auth/password", token, json, auth::change_password(s));
    app.get("/api/auth/me", token, auth::me(s));
    app.del("/api/auth/me", token, json, auth::delete_account(s));

    app.post("/api/keys", token, json, api_keys::create(s));
    app.get("/api/keys", token, api_keys::list(s));
    app.del("/api/keys/:id", token, api_keys::remove(s));

    app.post("/api/texts", token_or_key, text_json, texts::create(s)).body_limit(8 * 1024 * 1024);
    app.get("/api/texts", token_or_key, texts::list(s));
    app.get("/api/texts/:id", token_or_key, texts::show(s));
    app.put("/api/texts/:id", token_or_key, text_json, texts::update(s)).body_limit(8 * 1024 * 1024);
    app.del("/api/texts/:id", token_or_key, texts::remove(s));
    return app;
}

}  // namespace app
