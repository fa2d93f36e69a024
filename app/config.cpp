#include "config.hpp"

#include <spur/random.hpp>
#include <spur/strings.hpp>

#include <algorithm>
#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace app {

std::string usage() {
    return R"(spur-app — login, API keys and text data on MySQL/MariaDB

usage: spur-app [serve|migrate|openapi] [--flag=value | --flag value ...]

Each setting is read from the environment, then from a flag of the same name:
  PORT           --port           listen port (default 3001)
  HOST           --host           listen address (default 0.0.0.0)
  DATABASE_URL   --database-url   mysql://user:pass@host:port/db?socket=/path&pool_max=16 (required)
  JWT_SECRET     --jwt-secret     HMAC secret, at least 32 bytes (required unless --dev)
  JWT_SECRET_FILE, DATABASE_URL_FILE  read JWT_SECRET / DATABASE_URL from a file instead
                 (mode 600 or stricter; a trailing newline is dropped). Prefer these or the
                 environment to flags, which any local user can read in `ps`.
  JWT_TTL        --jwt-ttl        token lifetime in seconds (default 3600)
  JWT_LEEWAY     --jwt-leeway     clock skew tolerated on exp/nbf/iat, 0..300 s (default 30)
  BCRYPT_COST    --bcrypt-cost    10..31 (default 12)
  CORS_ORIGINS   --cors-origins   comma-separated allowed origins (default: none)
  MAX_CONNECTIONS        --max-connections         open connections at most (default 10000); at
                         the cap idle keep-alive connections are closed first
  MAX_CONNECTIONS_PER_IP --max-connections-per-ip  per client address, IPv6 by /64 (default 256;
                         0 = no cap; trusted proxies are exempt)
  TRUSTED_PROXIES --trusted-proxies  comma-separated CIDRs of reverse proxies whose
                 X-Forwarded-For / X-Forwarded-Proto are believed (default: none;
                 a Forwarded header is ignored)
  LOG_FORMAT     --log-format     dev | combined | json | off (default dev)
  THREADS        --threads        I/O threads (default: one per core)
  TLS_CERT       --tls-cert       PEM certificate chain file; with TLS_KEY, also serve HTTPS
  TLS_KEY        --tls-key        PEM private key file
  TLS_PORT       --tls-port       HTTPS port (default 3443)
  LOGIN_BURST_PER_IP     login attempts per address before throttling (default 10, then 1 per 6 s)
  LOGIN_BURST_PER_EMAIL  login attempts per email before throttling (default 5, then 1 per 12 s)
  REGISTER_BURST_PER_IP  registrations per address before throttling (default 10, then 1 per 20 s)
  OFFLOAD_QUEUE          sign-in password hashes queued at most; beyond, 503 overloaded (default
                         64); account maintenance has a share of its own, a quarter of it
  MAX_TEXTS_PER_USER       --max-texts-per-user       texts per account (default 1000)
  MAX_TEXT_BYTES_PER_USER  --max-text-bytes-per-user  content bytes per account (default 104857600)
  MAX_SEARCHES   --max-searches   text searches running at once, one per account; beyond, 429
                 (default 4; at most the database pool's size minus one)
  METRICS_LISTEN --metrics-listen  host:port of an admin listener for /metrics, /healthz and
                 /readyz, e.g. 127.0.0.1:9464 (default: none)
  PUBLIC_METRICS --public-metrics  1: also serve /metrics on the public port (default 0: 404)
  DOCS_ASSETS    --docs-assets    Swagger UI's files (npm's swagger-ui-dist) for the /docs page
                 (default: node_modules/swagger-ui-dist of the source tree, after `npm ci`)
  WEB_ROOT       --web-root       the built web front end, served at / (default: the one the
                 build made in the build tree, if any; without one spur-app serves the API only)
  LISTEN_UNIX    --listen-unix    also serve plain HTTP on this unix socket path (for a proxy
                 on the same host), e.g. /run/spur-app/http.sock (default: none)
  UNIX_MODE      --unix-mode      its permissions, octal (default 660)
  DRAIN_DELAY    --drain-delay    seconds between SIGTERM turning /readyz 503 and the listener
                 closing, so a load balancer stops routing first (default 0)
  TOKEN_PURGE_INTERVAL  seconds between purges of expired token revocations (default 600)
  Under systemd, sockets passed by socket activation (LISTEN_FDS; one named "https" serves
  TLS) replace HOST/PORT, and READY=1, STOPPING=1 and the watchdog go to NOTIFY_SOCKET.
  SPUR_ENV=development  --dev     apply migrations at start; generate a JWT secret if none

Commands:
  serve    (default) serve the API; outside --dev, refuses to start with pending migrations
  migrate  apply pending migrations from app/migrations and exit
  openapi  print the OpenAPI 3.1 document of the API (also served at /openapi.json) and exit
)";
}

namespace {
// A directory of files spur-app serves: the setting `name` if given (it must hold `marker`),
// else the build's default when that holds it, else none ("").
std::string asset_directory(std::map<std::string, std::string>& v, const std::string& name, const char* fallback,
                            const char* marker, const char* what) {
    auto holds = [marker](const std::string& dir) { return std::filesystem::is_regular_file(std::filesystem::path(dir) / marker); };
    if (!v.count(name)) return holds(fallback) ? fallback : "";
    const std::string& dir = v[name];
    if (!dir.empty() && !holds(dir)) throw std::invalid_argument(name + " must be a directory holding " + what);
    return dir;
}

template <class T>
T number(const std::string& name, const std::string& v, T min, T max) {
    T out{};
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size() || out < min || out > max)
        throw std::invalid_argument(name + " must be a number from " + std::to_string(min) + " to " + std::to_string(max));
    return out;
}
// A secret from NAME or NAME_FILE. The file is read once and must not be readable by group
// or others: a secret any local user can read is no secret.
std::string secret_setting(std::map<std::string, std::string>& v, const std::string& name) {
    const std::string file_key = name + "_FILE";
    if (!v.count(file_key)) return v[name];
    if (v.count(name)) throw std::invalid_argument("give " + name + " or " + file_key + ", not both");
    const std::string& path = v[file_key];
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw std::invalid_argument(file_key + ": cannot read " + path);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        throw std::invalid_argument(file_key + ": " + path + " is accessible to group or others; chmod 600 it");
    std::ifstream in(path, std::ios::binary);
    std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw std::invalid_argument(file_key + ": cannot read " + path);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) throw std::invalid_argument(file_key + ": " + path + " is empty");
    return value;
}
}  // namespace

spur::mysql::Config database_config(const Config& config) {
    auto db = spur::mysql::parse_url(config.database_url);
    if (db.max_statement_time.count() == 0) db.max_statement_time = std::chrono::seconds(1);
    return db;
}

spur::ServerOptions server_options(const Config& config) {
    spur::ServerOptions options;
    options.host = config.host;
    options.port = config.port;
    options.threads = config.threads;
    options.trusted_proxies = config.trusted_proxies;
    options.max_connections = config.max_connections;
    options.max_connections_per_ip = config.max_connections_per_ip;
    options.max_blocking_queue = config.offload_queue;
    options.unix_path = config.listen_unix;
    options.unix_mode = config.unix_mode;
    options.drain_delay = config.drain_delay;
    if (!config.tls_cert.empty()) {
        options.tls.emplace();
        options.tls->certificate.cert_chain_file = config.tls_cert;
        options.tls->certificate.private_key_file = config.tls_key;
        options.tls->port = config.tls_port;
    }
    return options;
}

std::optional<Config> load_config(int argc, char** argv, bool& help) {
    static const char* names[] = {"PORT", "HOST", "DATABASE_URL", "JWT_SECRET", "JWT_TTL", "BCRYPT_COST",
                                  "CORS_ORIGINS", "LOG_FORMAT", "THREADS", "LOGIN_BURST_PER_IP", "LOGIN_BURST_PER_EMAIL", "TLS_CERT", "TLS_KEY", "TLS_PORT",
                                  "TRUSTED_PROXIES", "MAX_CONNECTIONS", "MAX_CONNECTIONS_PER_IP", "JWT_LEEWAY", "JWT_SECRET_FILE", "DATABASE_URL_FILE",
                                  "REGISTER_BURST_PER_IP", "OFFLOAD_QUEUE", "MAX_TEXTS_PER_USER", "MAX_TEXT_BYTES_PER_USER", "MAX_SEARCHES",
                                  "METRICS_LISTEN", "PUBLIC_METRICS", "DOCS_ASSETS", "WEB_ROOT",
                                  "LISTEN_UNIX", "UNIX_MODE", "DRAIN_DELAY", "TOKEN_PURGE_INTERVAL"};
    std::map<std::string, std::string> v;
    for (const char* n : names)
        if (const char* e = std::getenv(n)) v[n] = e;
    Config c;
    if (const char* env = std::getenv("SPUR_ENV")) c.dev = std::string(env) == "development";
    help = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            help = true;
            return std::nullopt;
        }
        if (a == "serve" || a == "migrate" || a == "openapi") {
            c.command = a;
            continue;
        }
        if (a == "--dev") {
            c.dev = true;
            continue;
        }
        // --flag=value or --flag value, as getopt_long takes them.
        if (a.rfind("--", 0) != 0) throw std::invalid_argument("unknown argument: " + a + " (see --help)");
        const auto eq = a.find('=');
        const std::string flag = a.substr(0, eq);
        std::string key = flag.substr(2);
        for (auto& ch : key) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (std::find(std::begin(names), std::end(names), key) == std::end(names))
            throw std::invalid_argument("unknown flag: " + flag + " (see --help)");
        if (eq != std::string::npos) {
            v[key] = a.substr(eq + 1);
        } else {
            if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value (see --help)");
            v[key] = argv[++i];
        }
    }
    if (v.count("PORT")) c.port = number<unsigned short>("PORT", v["PORT"], 0, 65535);
    if (v.count("HOST")) c.host = v["HOST"];
    if (v.count("THREADS")) c.threads = number<unsigned>("THREADS", v["THREADS"], 1, 256);
    if (v.count("JWT_TTL")) c.jwt_ttl = std::chrono::seconds(number<long>("JWT_TTL", v["JWT_TTL"], 60, 30L * 24 * 3600));
    if (v.count("JWT_LEEWAY")) c.jwt_leeway = std::chrono::seconds(number<long>("JWT_LEEWAY", v["JWT_LEEWAY"], 0, 300));
    if (v.count("BCRYPT_COST")) c.bcrypt_cost = number<unsigned>("BCRYPT_COST", v["BCRYPT_COST"], 10, 31);
    if (v.count("LOGIN_BURST_PER_IP"))
        c.login_burst_per_ip = number<unsigned>("LOGIN_BURST_PER_IP", v["LOGIN_BURST_PER_IP"], 1, 1'000'000);
    if (v.count("LOGIN_BURST_PER_EMAIL"))
        c.login_burst_per_email = number<unsigned>("LOGIN_BURST_PER_EMAIL", v["LOGIN_BURST_PER_EMAIL"], 1, 1'000'000);
    if (v.count("REGISTER_BURST_PER_IP"))
        c.register_burst_per_ip = number<unsigned>("REGISTER_BURST_PER_IP", v["REGISTER_BURST_PER_IP"], 1, 1'000'000);
    if (v.count("OFFLOAD_QUEUE")) c.offload_queue = number<std::size_t>("OFFLOAD_QUEUE", v["OFFLOAD_QUEUE"], 1, 1'000'000);
    if (v.count("MAX_TEXTS_PER_USER"))
        c.max_texts_per_user = number<std::uint64_t>("MAX_TEXTS_PER_USER", v["MAX_TEXTS_PER_USER"], 1, 100'000'000);
    if (v.count("MAX_TEXT_BYTES_PER_USER"))
        c.max_text_bytes_per_user =
            number<std::uint64_t>("MAX_TEXT_BYTES_PER_USER", v["MAX_TEXT_BYTES_PER_USER"], 1, 1ull << 40);
    if (v.count("MAX_SEARCHES")) c.max_searches = number<std::size_t>("MAX_SEARCHES", v["MAX_SEARCHES"], 1, 10'000);
    if (v.count("PUBLIC_METRICS")) c.public_metrics = number<unsigned>("PUBLIC_METRICS", v["PUBLIC_METRICS"], 0, 1) == 1;
    if (v.count("METRICS_LISTEN")) {
        c.metrics_listen = v["METRICS_LISTEN"];
        const auto colon = c.metrics_listen.rfind(':');
        if (colon == std::string::npos || colon == 0)
            throw std::invalid_argument("METRICS_LISTEN must be host:port, e.g. 127.0.0.1:9464");
        c.metrics_host = c.metrics_listen.substr(0, colon);
        if (c.metrics_host.size() > 2 && c.metrics_host.front() == '[' && c.metrics_host.back() == ']')
            c.metrics_host = c.metrics_host.substr(1, c.metrics_host.size() - 2);  // [::1]:9464
        c.metrics_port = number<unsigned short>("METRICS_LISTEN's port", c.metrics_listen.substr(colon + 1), 1, 65535);
    }
    c.listen_unix = v["LISTEN_UNIX"];
    if (v.count("UNIX_MODE")) {
        const std::string& mode = v["UNIX_MODE"];
        if (mode.empty() || mode.size() > 4 || mode.find_first_not_of("01234567") != std::string::npos)
            throw std::invalid_argument("UNIX_MODE must be octal permissions, e.g. 660");
        c.unix_mode = static_cast<unsigned>(std::stoul(mode, nullptr, 8)) & 0777u;
    }
    if (v.count("DRAIN_DELAY"))
        c.drain_delay = std::chrono::seconds(number<long>("DRAIN_DELAY", v["DRAIN_DELAY"], 0, 300));
    if (v.count("TOKEN_PURGE_INTERVAL"))
        c.token_purge_interval =
            std::chrono::seconds(number<long>("TOKEN_PURGE_INTERVAL", v["TOKEN_PURGE_INTERVAL"], 1, 7 * 24 * 3600));
    if (v.count("MAX_CONNECTIONS"))
        c.max_connections = number<std::size_t>("MAX_CONNECTIONS", v["MAX_CONNECTIONS"], 1, 1'000'000);
    if (v.count("MAX_CONNECTIONS_PER_IP"))
        c.max_connections_per_ip = number<std::size_t>("MAX_CONNECTIONS_PER_IP", v["MAX_CONNECTIONS_PER_IP"], 0, 1'000'000);
    c.tls_cert = v["TLS_CERT"];
    c.tls_key = v["TLS_KEY"];
    if (c.tls_cert.empty() != c.tls_key.empty()) throw std::invalid_argument("TLS_CERT and TLS_KEY go together");
    if (v.count("TLS_PORT")) c.tls_port = number<unsigned short>("TLS_PORT", v["TLS_PORT"], 0, 65535);
    if (v.count("LOG_FORMAT")) {
        c.log_format = v["LOG_FORMAT"];
        if (c.log_format != "dev" && c.log_format != "combined" && c.log_format != "json" && c.log_format != "off")
            throw std::invalid_argument("LOG_FORMAT must be dev, combined, json or off");
    }
    auto comma_list = [](const std::string& list) {
        std::vector<std::string> out;
        spur::ListItems items(list);
        while (auto item = items.next()) out.emplace_back(*item);
        return out;
    };
    c.cors_origins = comma_list(v["CORS_ORIGINS"]);
    c.trusted_proxies = comma_list(v["TRUSTED_PROXIES"]);
    c.docs_assets = asset_directory(v, "DOCS_ASSETS", SPUR_APP_DOCS_ASSETS, "swagger-ui-bundle.js",
                                    "Swagger UI (npm's swagger-ui-dist)");
    c.web_root = asset_directory(v, "WEB_ROOT", SPUR_APP_WEB_ROOT, "index.html", "the built front end (index.html)");
    if (c.command == "openapi") {
        // The document needs the routes, not a database or a real secret: nothing connects.
        c.database_url = "mysql://openapi@127.0.0.1/openapi";
        c.jwt_secret = spur::random_token(48);
        return c;
    }
    c.database_url = secret_setting(v, "DATABASE_URL");
    if (c.database_url.empty()) throw std::invalid_argument("DATABASE_URL is required (see --help)");
    c.jwt_secret = secret_setting(v, "JWT_SECRET");
    if (c.jwt_secret.empty() && c.command == "serve") {
        if (!c.dev) throw std::invalid_argument("JWT_SECRET is required outside development mode (see --help)");
        c.jwt_secret = spur::random_token(48);  // tokens then last only until the next start
    }
    if (!c.jwt_secret.empty() && c.jwt_secret.size() < 32)
        throw std::invalid_argument("JWT_SECRET must be at least 32 bytes long");
    return c;
}

}  // namespace app
