#include "routes.hpp"

#include "ai/contract.hpp"
#include "ai/handlers.hpp"
#include "api_keys/handlers.hpp"
#include "auth/guard.hpp"
#include "auth/handlers.hpp"
#include "auth/repository.hpp"
#include "auth/recovery.hpp"
#include "auth/tokens.hpp"
#include "health/handlers.hpp"
#include "idempotency.hpp"
#include "mail/jobs.hpp"
#include "texts/contract.hpp"
#include "texts/handlers.hpp"
#include "web_ui/serve.hpp"
#include "api_keys/contract.hpp"
#include "auth/contract.hpp"

#include <spur/background/background.hpp>
#include <spur/contract/contract.hpp>
#include <spur/health/health.hpp>
#include <spur/openapi/openapi.hpp>

#include <spur/middleware/access_log.hpp>
#include <spur/middleware/compression.hpp>
#include <spur/middleware/cors.hpp>
#include <spur/middleware/cross_origin.hpp>
#include <spur/middleware/request_id.hpp>
#include <spur/middleware/security_headers.hpp>
#include <spur/mysql/error.hpp>

namespace app {

namespace mw = spur::middleware;
using namespace std::chrono_literals;

namespace {
// A database that is down or saturated is a 503 the client may retry, not an opaque 500;
// so is a statement the server stopped at max_statement_time, and a write that lost a conflict
// with one committed on another Galera node (after Pool::transaction's own retries).
std::optional<spur::HttpError> database_unavailable(const spur::mysql::Error& e, spur::Request& req) {
    const bool too_slow = e.statement_timeout();
    if (!too_slow && !e.connection_lost() && !e.pool_timeout() && !e.transaction_conflict()) return std::nullopt;
    // The client gets a plain 503; the operator needs the cause (which node, which error).
    req.log().warn("database unavailable",
                   {spur::LogField{"mysql_error", boost::json::value(e.number())},
                    spur::LogField{"detail", boost::json::value(boost::json::string_view(e.what()))}});
    if (too_slow) return spur::HttpError(503, "query_timeout", "The query took too long; narrow it down and try again");
    return spur::HttpError(503, "service_unavailable", "The database is unavailable, try again shortly");
}

// Everything under /api is about the signed-in user (or answers a token): no shared cache may
// keep it, and the browser may not store it either (a shared computer, a back button after
// logging out). Set before the handler, so that a handler's own choice still wins.
spur::Middleware personal_data() {
    return spur::before([](spur::Request&, spur::Response& res) { res.set("Cache-Control", "private, no-store"); });
}

spur::OpenApiOptions openapi_options(const Config& config) {
    spur::OpenApiOptions o;
    o.title = "spur-app";
    o.version = "1.0.0";
    o.description = "Accounts, API keys and per-user texts. Sign in with POST /api/auth/login, then "
                    "**Authorize** with the token (or with an API key for /api/texts).";
    o.docs_assets = config.docs_assets;
    o.security_schemes["bearer"] = spur::bearer_jwt_scheme();
    o.security_schemes["apiKey"] = spur::api_key_header_scheme("X-API-Key");
    // The web front end's HttpOnly cookie (POST /api/auth/session): accepted wherever a token is.
    o.security_schemes["session"] = {{"type", "apiKey"},
                                     {"in", "cookie"},
                                     {"name", "spur_session"},
                                     {"description", "The browser session from POST /api/auth/session; over https its name "
                                                     "is __Host-spur_session"}};
    return o;
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
    spur::AppOptions options;
    options.validation_status = 400;  // what spur-app's clients have always been answered
    // Error lines and the handlers' own lines, with the request id, in the access log's format.
    options.log = s.log;
    spur::App app(options);
    spur::openapi(app, openapi_options(s.config));
    app.use(s.metrics.middleware());
    if (s.config.log_format != "off") app.use(mw::access_log(log_options(s.config)));
    app.use(mw::request_id());
    app.use(mw::security_headers());
    if (!s.config.cors_origins.empty()) {
        mw::CorsOptions cors;
        cors.origins = s.config.cors_origins;
        cors.allowed_headers = {"Authorization", "Content-Type", "X-API-Key", "X-Request-Id", "Idempotency-Key"};
        cors.exposed_headers = {"X-Request-Id", "Retry-After", "Idempotent-Replayed"};
        app.use(mw::cors(cors));
    }
    // Browsers authenticate with the session cookie: a cross-site request that changes state
    // is refused by Fetch Metadata (API clients send no such headers and pass).
    app.use(mw::cross_origin_protection());
    app.use(mw::compression());
    app.on_exception<spur::mysql::Error>(database_unavailable);
    spur::every(app, s.config.token_purge_interval, [&s]() -> spur::Task<> {
        co_await auth::purge_revocations(s.db);
        co_await auth::purge_tokens(s.db);
        co_await s.idempotency.purge_expired();
    }, "purge expired token revocations, spent one-time tokens and expired Idempotency-Keys");
    // The mail jobs run on every instance that serves; one App per Services runs them.
    if (!s.jobs_served) {
        s.jobs_served = true;
        mail::handle_jobs(s);
        s.jobs.serve(app);
        // Done jobs are kept a week for operators (`spur-app jobs list`), dead ones until retried or purged by hand.
        spur::every(app, std::chrono::hours(1), [&s]() -> spur::Task<> { co_await s.jobs.purge(std::chrono::days(7)); },
                    "purge done jobs older than 7 days");
        spur::spawn(app, [&s]() -> spur::Task<> {
            mail::log_transport(s);
            co_return;
        }, "mail transport");
    }

    constexpr std::size_t small = 64 * 1024, large = 8 * 1024 * 1024;  // 1 MiB of content, JSON-escaped
    // Handlers that take auth::Auth<Principal> check credentials against these services; the
    // security and 401 of their routes' documentation come from that argument.
    app.extensions().emplace<auth::Authenticator>(s);

    app.get("/healthz", spur::liveness()).tag("health").summary("Liveness").responds<spur::HealthReport>(200);
    app.get("/readyz", health::readiness(s))
        .tag("health").summary("Readiness: the database answers and the server is not draining")
        .responds<spur::HealthReport>(200)
        .responds<spur::HealthReport>(503, "Draining (shutting down), or the database does not answer");
    // Metrics belong on the admin listener (METRICS_LISTEN); here only if the operator opts in.
    app.get("/metrics", health::public_metrics(s))
        .tag("health").summary("Prometheus metrics (only with PUBLIC_METRICS=1; else 404)")
        .responds_text(200, "text/plain", "Prometheus text exposition format").responds_error(404);

    spur::Router users;
    users.use(personal_data());
    accepts_idempotency_key(users.post("/register", idempotent_writes(s, KeyScope::anonymous), auth::register_user(s))
        .body_limit(small).summary("Create an account").responds<auth::UserReply>(201).responds_error(409, 429));
    users.post("/login", auth::login(s)).body_limit(small)
        .summary("Sign in: a JWT for the Authorization header").responds<auth::TokenReply>(200).responds_error(401, 429);
    users.post("/session", auth::start_session(s)).body_limit(small)
        .summary("Sign in from a browser: the token goes into an HttpOnly session cookie")
        .responds<auth::UserReply>(200).responds_error(401, 429);
    users.post("/logout", auth::logout(s))
        .summary("Revoke this token").responds(204, "Signed out");
    users.post("/logout-all", auth::logout_all(s))
        .summary("Revoke every token of this account").responds(204, "Signed out everywhere");
    accepts_idempotency_key(users.post("/password", idempotent_writes(s, KeyScope::account, KeepAnswer::never),
                                       auth::change_password(s))
        .body_limit(small).summary("Change the password: every older token ends, a fresh one is returned")
        .responds<auth::TokenReply>(200).responds_error(403, 409, 429));
    users.get("/me", auth::me(s)).summary("The signed-in account").responds<auth::UserReply>(200);
    users.post("/password-reset", auth::request_password_reset(s)).body_limit(small)
        .summary("Ask for a password-reset link by mail: 202 whether or not the address has an account")
        .responds<auth::Accepted>(202).responds_error(429);
    accepts_idempotency_key(users.post("/password-reset/confirm", idempotent_writes(s, KeyScope::anonymous),
                                       auth::confirm_password_reset(s))
        .body_limit(small).summary("Set a new password with the token of a reset mail: every session and API key ends")
        .responds(204, "Password set; sign in with it").responds_error(400));
    users.post("/verify-email", auth::request_verification(s))
        .summary("Mail a link that verifies the account's address (nothing is sent once it is verified)")
        .responds<auth::Accepted>(202).responds_error(429);
    users.post("/verify-email/confirm", auth::confirm_verification(s)).body_limit(small)
        .summary("Verify the address with the token of a verification mail")
        .responds<auth::UserReply>(200).responds_error(400);
    users.del("/me", auth::delete_account(s)).body_limit(small)
        .summary("Delete the account and everything it owns")
        .responds(204, "Deleted").responds_error(403, 429);
    app.mount("/api/auth", users);

    spur::Router keys;
    keys.use(personal_data());
    accepts_idempotency_key(keys.post("/", idempotent_writes(s, KeyScope::account, KeepAnswer::never), api_keys::create(s))
        .body_limit(small).summary("Create an API key (the password again): its secret is shown once")
        .responds<api_keys::KeyCreated>(201).responds_error(403, 429));
    keys.get("/", api_keys::list(s)).summary("List API keys").responds<api_keys::KeyList>(200);
    keys.del("/:id", api_keys::remove(s)).summary("Revoke an API key").responds(204, "Revoked");
    app.mount("/api/keys", keys);

    spur::Router data;
    data.use(personal_data());
    accepts_idempotency_key(data.post("/", idempotent_writes(s, KeyScope::account), texts::create(s)).body_limit(large)
        .summary("Create a text").responds<texts::TextReply>(201).responds_error(403));
    data.get("/", texts::list(s))
        .summary("List texts, newest first (summaries: no content); q searches, one search per account at a time")
        .responds<texts::TextPage>(200).responds_error(429, 503);
    data.get("/:id", texts::show(s)).summary("Read a text (ETag: its version)")
        .responds<texts::TextReply>(200).responds(304, "If-None-Match names the current version");
    data.put("/:id", texts::update(s)).body_limit(large)
        .summary("Change a text's title, content or both; If-Match makes it conditional")
        .responds<texts::TextReply>(200).responds_error(403, 412);
    data.del("/:id", texts::remove(s)).summary("Delete a text; If-Match makes it conditional")
        .responds(204, "Deleted").responds_error(412);
    data.post("/:id/summary", ai::summarize(s))
        .summary("Summarize a text with the AI service, sentence by sentence (server-sent events)")
        .responds_text(200, "text/event-stream", ai::summary_events)
        .responds_error(404, 422, 429, 502, 503, 504);
    app.mount("/api/texts", data);

    if (!s.config.web_root.empty()) web_ui::serve(app, s.config.web_root);
    return app;
}

}  // namespace app
