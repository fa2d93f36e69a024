#pragma once
// spur-app's settings: environment variables, overridden by flags (the table in settings.cpp).

#include <spur/log.hpp>
#include <spur/mysql/config.hpp>
#include <spur/server.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <functional>
#include <string>
#include <vector>

namespace app {

struct Config {
    std::string command = "serve";  ///< "serve", "migrate", "openapi" (print the API document) or "settings" (print their table)
    std::string migrate_action = "up";  ///< after `migrate`: "up" or "status"
    std::string host = "0.0.0.0";
    unsigned short port = 3001;
    std::string database_url;
    std::string jwt_secret;
    std::chrono::seconds jwt_ttl{3600};
    /// Clock skew tolerated on exp/nbf/iat: instances whose clocks differ a little accept each other's tokens.
    std::chrono::seconds jwt_leeway{30};
    unsigned bcrypt_cost = 12;
    std::vector<std::string> cors_origins;
    std::vector<std::string> trusted_proxies;  ///< CIDRs; see spur::ServerOptions::trusted_proxies
    std::size_t max_connections = spur::ServerOptions{}.max_connections;
    std::size_t max_connections_per_ip = spur::ServerOptions{}.max_connections_per_ip;
    std::string log_format = "dev";  ///< dev | combined | json | off
    bool dev = false;                ///< development: migrate on start, allow a generated JWT secret
    unsigned threads = 0;
    std::string tls_cert;             ///< PEM certificate chain; with tls_key, HTTPS on tls_port too
    std::string tls_key;
    unsigned short tls_port = 3443;
    bool http2 = true;                ///< h2 by ALPN on the HTTPS listener
    bool h2c = false;                 ///< HTTP/2 by prior knowledge on the plain port too
    unsigned login_burst_per_ip = 10;     ///< then one attempt every 6 s per address
    unsigned login_burst_per_email = 5;   ///< then one attempt every 12 s per email
    unsigned register_burst_per_ip = 10;  ///< then one registration every 20 s per address
    std::size_t offload_queue = 64;       ///< password hashes queued at most; then 503 overloaded
    std::uint64_t max_texts_per_user = 1000;               ///< then 403 quota_exceeded
    std::uint64_t max_text_bytes_per_user = 100ull << 20;  ///< content bytes; then 403 quota_exceeded
    /// Searches running at once in all (one per account); then 429 too_many_searches. Kept below
    /// the database pool's size (Services), so searches never hold every pooled connection.
    std::size_t max_searches = 4;
    /// The AI service (services/ai) that summarises texts: its base URL, the longest a summary
    /// may take in all, the pause it makes between sentences (0; tests and demos slow it down),
    /// and how many summaries may stream at once in all (one per account); then 429.
    std::string ai_service_url = "http://127.0.0.1:3002";
    std::chrono::seconds ai_timeout{60};
    unsigned ai_pace_ms = 0;
    std::size_t max_summaries = 16;
    /// `host:port` of the admin listener serving /metrics, /healthz and /readyz (METRICS_LISTEN,
    /// split into host and port by load_config); empty: none.
    std::string metrics_listen;
    std::string metrics_host;
    unsigned short metrics_port = 0;
    bool public_metrics = false;
    std::string listen_unix;           ///< also serve on this unix socket path (LISTEN_UNIX)
    unsigned unix_mode = 0660;         ///< its permissions (UNIX_MODE, octal)
    /// Between readiness turning 503 and the listener closing on SIGTERM (DRAIN_DELAY, seconds).
    std::chrono::milliseconds drain_delay{0};
    std::chrono::seconds token_purge_interval{600};  ///< expired revocations deleted this often
    /// Mail (app/mail): an SMTP server (`smtp://` with STARTTLS when offered, `smtps://`), or
    /// without one a directory of .eml files (development); neither: mail is off.
    std::string smtp_url;
    std::string smtp_from = "spur-app <noreply@localhost>";
    std::string smtp_username;
    std::string smtp_password;
    bool smtp_require_tls = false;      ///< refuse to send unless the session is encrypted
    std::string smtp_ca_file;           ///< CA certificates (PEM) for the server's; empty: the system's
    std::chrono::seconds smtp_timeout{30};  ///< one SMTP session in all
    std::string mail_dir;
    /// The base of the links in mails (`https://app.example.com`); empty: public_url() derives it.
    std::string public_url;
    /// An account whose address is not verified cannot create API keys (403 email_unverified).
    bool require_verified_email = true;
    unsigned reset_burst_per_ip = 10;      ///< password-reset requests, then one every 60 s per client address
    unsigned mail_burst_per_address = 3;   ///< reset mails per address, verification mails per account; then one per 5 min
    unsigned job_concurrency = 2;          ///< background jobs (mails) this instance runs at once
    unsigned job_poll_ms = 1000;           ///< an idle job worker looks for due jobs this often
    /// Swagger UI's files for /docs (DOCS_ASSETS; default: the npm-installed copy in the source
    /// tree, when it is there); empty: no /docs page.
    std::string docs_assets;
    /// The built web front end served at / (WEB_ROOT; default: the build tree's copy, when the
    /// build made one); empty: API only.
    std::string web_root;  ///< also answer /metrics on the public port (otherwise 404)
    /// Where access-log lines go (not a flag: tests and embedders set it); default stderr.
    std::function<void(std::string_view)> access_log_sink;
    /// Where the app's own log records go (errors, "login failed"…; not a flag: tests and
    /// embedders set it); default stderr, in LOG_FORMAT's text or JSON.
    spur::LogSink log_sink;
};

/// The database settings of `config`: DATABASE_URL, with every statement stopped by the
/// server after 1 s unless the URL sets max_statement_time_ms (a search must not hold a pooled
/// connection for long).
spur::mysql::Config database_config(const Config& config);

/// The base of the links in mails, without a trailing `/`: PUBLIC_URL, or else
/// `http://HOST:PORT`, with `localhost` for a wildcard HOST (0.0.0.0, ::) — right for
/// scripts/run.sh on one machine; behind a proxy or on another port, set PUBLIC_URL.
std::string public_url(const Config& config);

/// The server settings of `config`: address, port, threads, TLS, trusted proxies.
spur::ServerOptions server_options(const Config& config);

/// The --help text: the commands, then every setting of the table in settings.cpp.
std::string usage();

/// Where load_config reads the environment: the variable's value, or nullopt when it is unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

/// Reads every setting of the table in settings.cpp from `env` (and a secret's NAME_FILE), then
/// from `args` (the command line without the program's name): `serve`, `migrate`, `openapi`
/// or `settings`, and flags `--flag=value` or `--flag value`, which override the environment.
/// A setting neither gives keeps Config's default. Returns nullopt with `help` set for --help
/// or -h; for `settings`, a Config with only the command. Throws std::invalid_argument with a
/// message for the user on anything invalid, naming the variable or flag that gave it and the
/// value (a secret's value is not repeated): an unknown flag, a value its setting refuses, a
/// JWT secret under 32 bytes, a secret given both directly and by file, only one of TLS_CERT
/// and TLS_KEY, no DATABASE_URL (except for `openapi`, which needs neither database nor secret).
std::optional<Config> load_config(const std::vector<std::string>& args, const Environment& env, bool& help);

/// load_config on the process's command line and environment (getenv).
std::optional<Config> load_config(int argc, char** argv, bool& help);

}  // namespace app
