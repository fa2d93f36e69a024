#include "settings.hpp"

#include "installed.hpp"

#include <chrono>
#include <cstdint>

namespace app {

std::span<const Setting> settings() {
    using C = Config;
    static const std::vector<Setting> table = {
        {.env = "PORT", .flag = "--port", .help = "listen port",
         .parse = number(&C::port, 0, 65535)},
        {.env = "HOST", .flag = "--host", .help = "listen address (an IP address: `0.0.0.0` every IPv4 interface, `::` every interface)",
         .parse = ip_address(&C::host)},
        {.env = "DATABASE_URL", .flag = "--database-url",
         .help = "`mysql://user:pass@host:port/db?socket=/path&pool_max=16`; the server stops each statement after "
                 "1 s unless the URL sets `max_statement_time_ms`",
         .parse = text(&C::database_url), .fallback = "none; required", .secret = true},
        {.env = "JWT_SECRET", .flag = "--jwt-secret", .help = "HMAC secret of the tokens, at least 32 bytes",
         .parse = secret(&C::jwt_secret, 32), .fallback = "none; required outside `--dev`, which makes one", .secret = true},
        {.env = "JWT_TTL", .flag = "--jwt-ttl", .help = "token lifetime in seconds, 60 to 2592000",
         .parse = seconds(&C::jwt_ttl, 60, 30L * 24 * 3600)},
        {.env = "JWT_LEEWAY", .flag = "--jwt-leeway",
         .help = "seconds of clock skew tolerated on exp/nbf/iat between instances, 0 to 300",
         .parse = seconds(&C::jwt_leeway, 0, 300)},
        {.env = "BCRYPT_COST", .flag = "--bcrypt-cost", .help = "password hashing cost, 10 to 31",
         .parse = number(&C::bcrypt_cost, 10, 31)},
        {.env = "CORS_ORIGINS", .flag = "--cors-origins", .help = "comma-separated allowed origins",
         .parse = list(&C::cors_origins)},
        {.env = "MAX_CONNECTIONS", .flag = "--max-connections",
         .help = "open connections at most; at the cap idle keep-alive connections are closed first",
         .parse = number(&C::max_connections, 1, 1'000'000)},
        {.env = "MAX_CONNECTIONS_PER_IP", .flag = "--max-connections-per-ip",
         .help = "open connections per client address, IPv6 by /64; 0: no cap; trusted proxies are exempt",
         .parse = number(&C::max_connections_per_ip, 0, 1'000'000)},
        {.env = "TRUSTED_PROXIES", .flag = "--trusted-proxies",
         .help = "comma-separated CIDRs of reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are "
                 "believed (a `Forwarded` header is ignored)",
         .parse = list(&C::trusted_proxies)},
        {.env = "LOG_FORMAT", .flag = "--log-format", .help = "access and app log: `dev`, `combined`, `json` or `off`",
         .parse = one_of(&C::log_format, {"dev", "combined", "json", "off"})},
        {.env = "THREADS", .flag = "--threads", .help = "I/O threads, 1 to 256",
         .parse = number(&C::threads, 1, 256), .fallback = "one per core"},
        {.env = "TLS_CERT", .flag = "--tls-cert",
         .help = "PEM certificate chain file; with `TLS_KEY`, HTTPS is served on `TLS_PORT` beside plain HTTP",
         .parse = text(&C::tls_cert)},
        {.env = "TLS_KEY", .flag = "--tls-key", .help = "PEM private key file of `TLS_CERT`",
         .parse = text(&C::tls_key)},
        {.env = "TLS_PORT", .flag = "--tls-port", .help = "HTTPS port",
         .parse = number(&C::tls_port, 0, 65535)},
        {.env = "HTTP2", .flag = "--http2",
         .help = "`1`: offer HTTP/2 (`h2`) by ALPN on the HTTPS listener; `0`: HTTP/1.1 only there",
         .parse = zero_or_one(&C::http2)},
        {.env = "H2C", .flag = "--h2c",
         .help = "`1`: also speak HTTP/2 by prior knowledge (h2c) on the plain port, beside HTTP/1.1 — for a "
                 "proxy that forwards HTTP/2 in cleartext",
         .parse = zero_or_one(&C::h2c)},
        {.env = "LOGIN_BURST_PER_IP", .flag = "--login-burst-per-ip",
         .help = "login attempts per address before throttling to one per 6 s (password confirmations count too)",
         .parse = number(&C::login_burst_per_ip, 1, 1'000'000)},
        {.env = "LOGIN_BURST_PER_EMAIL", .flag = "--login-burst-per-email",
         .help = "login attempts per account, however its address is spelt, before throttling to one per 12 s",
         .parse = number(&C::login_burst_per_email, 1, 1'000'000)},
        {.env = "REGISTER_BURST_PER_IP", .flag = "--register-burst-per-ip",
         .help = "registrations per address before throttling to one per 20 s",
         .parse = number(&C::register_burst_per_ip, 1, 1'000'000)},
        {.env = "OFFLOAD_QUEUE", .flag = "--offload-queue",
         .help = "sign-in password hashes (login, session, register) queued at most; beyond, 503 `overloaded`. "
                 "Password change, account deletion and key creation have a share of their own, a quarter of it",
         .parse = number(&C::offload_queue, 1, 1'000'000)},
        {.env = "MAX_TEXTS_PER_USER", .flag = "--max-texts-per-user",
         .help = "texts per account; beyond, 403 `quota_exceeded`",
         .parse = number(&C::max_texts_per_user, 1, 100'000'000)},
        {.env = "MAX_TEXT_BYTES_PER_USER", .flag = "--max-text-bytes-per-user",
         .help = "content bytes per account (the default is 100 MiB); beyond, 403 `quota_exceeded`",
         .parse = number(&C::max_text_bytes_per_user, 1, std::uint64_t{1} << 40)},
        {.env = "MAX_SEARCHES", .flag = "--max-searches",
         .help = "text searches running at once in all, one per account; beyond, 429. At most the database "
                 "pool's size minus one (`pool_max` in `DATABASE_URL`, 10 by default)",
         .parse = number(&C::max_searches, 1, 10'000)},
        {.env = "AI_SERVICE_URL", .flag = "--ai-service-url",
         .help = "base URL of the AI service (`services/ai/serve.sh`) that summarises texts; `scripts/run.sh` "
                 "starts one when this is unset",
         .parse = http_url(&C::ai_service_url)},
        {.env = "AI_TIMEOUT", .flag = "--ai-timeout",
         .help = "seconds a summary may take in all, retries included; then `504 ai_timeout`. 1 to 600",
         .parse = seconds(&C::ai_timeout, 1, 600)},
        {.env = "AI_PACE_MS", .flag = "--ai-pace-ms",
         .help = "milliseconds the AI service waits before each sentence (tests and demos), 0 to 5000",
         .parse = number(&C::ai_pace_ms, 0u, 5000u)},
        {.env = "MAX_SUMMARIES", .flag = "--max-summaries",
         .help = "summaries streaming at once in all, one per account; beyond, 429 `too_many_summaries`",
         .parse = number(&C::max_summaries, 1, 10'000)},
        {.env = "METRICS_LISTEN", .flag = "--metrics-listen",
         .help = "`host:port` of an admin listener for `/metrics`, `/healthz` and `/readyz`, e.g. `127.0.0.1:9464`",
         .parse = host_port(&C::metrics_listen, &C::metrics_host, &C::metrics_port)},
        {.env = "PUBLIC_METRICS", .flag = "--public-metrics",
         .help = "`1`: also serve `/metrics` on the public port, where it otherwise answers 404",
         .parse = zero_or_one(&C::public_metrics)},
        {.env = "DOCS_ASSETS", .flag = "--docs-assets",
         .help = "Swagger UI's files (npm's `swagger-ui-dist`) for the `/docs` page; empty: no `/docs`",
         .parse = directory(&C::docs_assets, {installed_share("docs"), SPUR_APP_DOCS_ASSETS}, "swagger-ui-bundle.js",
                            "Swagger UI (npm's swagger-ui-dist)"),
         .fallback = "`../share/spur-app/docs` beside the binary when installed, else the build tree's copy (the build "
                     "fetches it with npm)"},
        {.env = "WEB_ROOT", .flag = "--web-root", .help = "the built web front end, served at `/`; empty: the API only",
         .parse = directory(&C::web_root, {installed_share("web"), SPUR_APP_WEB_ROOT}, "index.html",
                            "the built front end (index.html)"),
         .fallback = "`../share/spur-app/web` beside the binary when installed, else the build tree's copy, if the "
                     "build made one"},
        {.env = "LISTEN_UNIX", .flag = "--listen-unix",
         .help = "also serve plain HTTP on this unix socket path, for a proxy on the same host "
                 "(e.g. `/run/spur-app/http.sock`)",
         .parse = text(&C::listen_unix)},
        {.env = "UNIX_MODE", .flag = "--unix-mode", .help = "the unix socket's permissions, octal",
         .parse = octal(&C::unix_mode)},
        {.env = "DRAIN_DELAY", .flag = "--drain-delay",
         .help = "seconds between SIGTERM turning `/readyz` 503 and the listener closing, so a load balancer "
                 "stops routing first; 0 to 300",
         .parse = seconds(&C::drain_delay, 0, 300)},
        {.env = "TOKEN_PURGE_INTERVAL", .flag = "--token-purge-interval",
         .help = "seconds between purges of expired token revocations and of spent reset and verification tokens",
         .parse = seconds(&C::token_purge_interval, 1, 7L * 24 * 3600)},
        {.env = "SMTP_URL", .flag = "--smtp-url",
         .help = "the SMTP server for reset and verification mails: `smtp://host:587` (STARTTLS when the server "
                 "offers it) or `smtps://host:465` (TLS from the start); the certificate is verified. Unset: mails go "
                 "to `MAIL_DIR`, or nowhere (a warning at start)",
         .parse = smtp_url(&C::smtp_url)},
        {.env = "SMTP_FROM", .flag = "--smtp-from", .help = "the sender of the mails: `Name <address>` or `address`",
         .parse = mailbox(&C::smtp_from)},
        {.env = "SMTP_USERNAME", .flag = "--smtp-username", .help = "SMTP AUTH user name; empty: no AUTH",
         .parse = text(&C::smtp_username)},
        {.env = "SMTP_PASSWORD", .flag = "--smtp-password", .help = "SMTP AUTH password",
         .parse = secret(&C::smtp_password, 1), .secret = true},
        {.env = "SMTP_REQUIRE_TLS", .flag = "--smtp-require-tls",
         .help = "`1`: send only over an encrypted session (with `smtp://`, the server must offer STARTTLS); `0`: "
                 "STARTTLS when offered, else in clear — set `1` whenever `SMTP_PASSWORD` is set",
         .parse = zero_or_one(&C::smtp_require_tls)},
        {.env = "SMTP_CA_FILE", .flag = "--smtp-ca-file",
         .help = "PEM file of the CA certificates that verify the SMTP server's (a private CA); empty: the system's",
         .parse = text(&C::smtp_ca_file)},
        {.env = "SMTP_TIMEOUT", .flag = "--smtp-timeout",
         .help = "seconds one SMTP session may take in all (connecting: at most 10 of them); 1 to 600",
         .parse = seconds(&C::smtp_timeout, 1, 600)},
        {.env = "MAIL_DIR", .flag = "--mail-dir",
         .help = "without `SMTP_URL`: write each mail as a `.eml` file into this directory (created if missing) and "
                 "log its path — for development; `scripts/run.sh` sets `var/mail`",
         .parse = text(&C::mail_dir)},
        {.env = "PUBLIC_URL", .flag = "--public-url",
         .help = "the address users reach spur-app at, the base of the links in mails (`https://app.example.com`)",
         .parse = http_url(&C::public_url),
         .fallback = "`http://HOST:PORT`, with `localhost` for a wildcard `HOST`"},
        {.env = "REQUIRE_VERIFIED_EMAIL", .flag = "--require-verified-email",
         .help = "`1`: an account must verify its address (the link mailed on registration) before it creates API "
                 "keys, else 403 `email_unverified`; `0`: no such rule",
         .parse = zero_or_one(&C::require_verified_email)},
        {.env = "RESET_BURST_PER_IP", .flag = "--reset-burst-per-ip",
         .help = "password-reset requests per client address before throttling to one per 60 s",
         .parse = number(&C::reset_burst_per_ip, 1, 1'000'000)},
        {.env = "MAIL_BURST_PER_ADDRESS", .flag = "--mail-burst-per-address",
         .help = "password-reset requests per e-mail address, and verification mails per account, before "
                 "throttling to one per 5 minutes",
         .parse = number(&C::mail_burst_per_address, 1, 1'000'000)},
        {.env = "JOB_CONCURRENCY", .flag = "--job-concurrency",
         .help = "background jobs (the mails) this instance runs at once; 1 to 64",
         .parse = number(&C::job_concurrency, 1, 64)},
        {.env = "JOB_POLL_MS", .flag = "--job-poll-ms",
         .help = "milliseconds an idle job worker waits before it looks for due jobs again; 10 to 60000",
         .parse = number(&C::job_poll_ms, 10, 60'000)},
        {.env = "SPUR_ENV", .flag = "--dev",
         .help = "`development` (or the flag, which takes no value): apply migrations at start, and make a JWT "
                 "secret if none is given; `production` (or unset): neither",
         .parse = is_word(&C::dev, "development", "production"), .flag_means = "development"},
    };
    return table;
}

std::string default_text(const Setting& setting) {
    if (!setting.fallback.empty()) return std::string(setting.fallback);
    const std::string shown = setting.parse.show(Config{});
    return shown.empty() ? "none" : "`" + shown + "`";
}

namespace {
// `text` without markdown's backticks: --help is read in a terminal.
std::string plain(std::string_view text) {
    std::string out;
    for (char ch : text)
        if (ch != '`') out += ch;
    return out;
}

// `text` as lines of at most `width` characters after `indent` spaces, broken between words.
std::string wrapped(std::string_view text, std::size_t indent, std::size_t width) {
    std::string out, line;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto space = text.find(' ', at);
        const auto word = text.substr(at, space == std::string_view::npos ? text.npos : space - at);
        at = space == std::string_view::npos ? text.size() : space + 1;
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += std::string(indent, ' ') + line + "\n";
            line.clear();
        }
        if (!line.empty()) line += ' ';  // not (cond ? "" : " ") + string: GCC 12 -O3 warns (-Wrestrict)
        line += word;
    }
    if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
    return out;
}

// A markdown table cell: a `|` in it would end the cell.
std::string cell(std::string_view text) {
    std::string out;
    for (char ch : text) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
    return out;
}
}  // namespace

std::string settings_help() {
    std::string out;
    for (const Setting& s : settings()) {
        out += "  " + std::string(s.env) + (s.secret ? ", " + std::string(s.env) + "_FILE" : "");
        out += "  " + std::string(s.flag) + (s.secret ? ", " + std::string(s.flag) + "-file" : "") + "\n";
        out += wrapped(plain(std::string(s.help) + "; default: " + default_text(s)), 6, 90);
    }
    return out;
}

std::string settings_markdown() {
    std::string out = "| Variable | Flag | Default | What it sets |\n|---|---|---|---|\n";
    auto code = [](std::string_view name) { return "`" + std::string(name) + "`"; };
    for (const Setting& s : settings()) {
        out += "| " + code(s.env) + (s.secret ? ", " + code(std::string(s.env) + "_FILE") : "");
        out += " | " + code(s.flag) + (s.secret ? ", " + code(std::string(s.flag) + "-file") : "");
        out += " | " + cell(default_text(s)) + " | " + cell(s.help) + " |\n";
    }
    return out;
}

}  // namespace app
