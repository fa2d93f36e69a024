#include "config.hpp"

#include "settings.hpp"

#include <spur/random.hpp>

#include <sys/stat.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

namespace app {

std::string usage() {
    return R"(spur-app — login, API keys and text data on MySQL/MariaDB

usage: spur-app [serve|migrate [up|status]|openapi|settings] [--flag=value | --flag value ...]

Commands:
  serve     (default) serve the API; outside --dev, refuses to start with pending migrations
  migrate   apply pending migrations from app/migrations and exit (also `migrate up`);
            `migrate status` lists each migration: applied, pending, changed or missing
  openapi   print the OpenAPI 3.1 document of the API (also served at /openapi.json) and exit
  settings  print the settings below as a markdown table (docs/api.md's) and exit

Each setting is read from its environment variable, then from its flag, which wins. A secret's
_FILE variable (or -file flag) names a file to read it from instead: mode 600 or stricter, a
trailing newline dropped. Prefer these or the environment to flags, which any local user can
read in `ps`.

)" + settings_help() + R"(
Under systemd, sockets passed by socket activation (LISTEN_FDS; one named "https" serves TLS)
replace HOST/PORT, and READY=1, STOPPING=1 and the watchdog go to NOTIFY_SOCKET.
)";
}

namespace {
// A setting's text and where it came from: the variable or the flag, for the error messages.
struct Given {
    std::string text;
    std::string source;
};
using GivenSettings = std::map<std::string, Given, std::less<>>;  // by variable name

// The row whose flag (or secret file flag) is `flag`, and the variable it stands for. Spelt in
// any case, with `_` or `-`: --LOG_FORMAT is --log-format.
std::pair<const Setting*, std::string> find_flag(const std::string& flag) {
    std::string name = flag;
    for (auto& ch : name) ch = ch == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const Setting& s : settings()) {
        if (name == s.flag) return {&s, std::string(s.env)};
        if (s.secret && name == std::string(s.flag) + "-file") return {&s, std::string(s.env) + "_FILE"};
    }
    throw std::invalid_argument("unknown flag: " + flag + " (see --help)");
}

// A secret from a file, read once; it must not be readable by group or others: a secret any
// local user can read is no secret.
Given secret_file(const Given& file) {
    const std::string& path = file.text;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw std::invalid_argument(file.source + ": cannot read " + path);
    // A directory, a FIFO (which would block the start) or a device is no secret file.
    if (!S_ISREG(st.st_mode)) throw std::invalid_argument(file.source + ": " + path + " is not a regular file");
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        throw std::invalid_argument(file.source + ": " + path + " is accessible to group or others; chmod 600 it");
    constexpr off_t max_secret_bytes = 64 * 1024;
    if (st.st_size > max_secret_bytes)
        throw std::invalid_argument(file.source + ": " + path + " is larger than 64 KiB: not a secret file");
    std::ifstream in(path, std::ios::binary);
    std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw std::invalid_argument(file.source + ": cannot read " + path);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) throw std::invalid_argument(file.source + ": " + path + " is empty");
    return {value, file.source};
}

// The setting's text, if the environment or a flag gave it (a secret: itself or its file).
std::optional<Given> given_text(const GivenSettings& given, const Setting& s) {
    const auto it = given.find(s.env);
    const auto file = s.secret ? given.find(std::string(s.env) + "_FILE") : given.end();
    if (file == given.end()) return it == given.end() ? std::nullopt : std::optional(it->second);
    if (it != given.end()) {
        // A flag wins over the environment, as for every setting; two of one kind are ambiguous.
        const bool value_by_flag = it->second.source.starts_with("--"), file_by_flag = file->second.source.starts_with("--");
        if (value_by_flag == file_by_flag)
            throw std::invalid_argument("give " + it->second.source + " or " + file->second.source + ", not both");
        if (value_by_flag) return it->second;
    }
    return secret_file(file->second);
}
}  // namespace

spur::mysql::Config database_config(const Config& config) {
    auto db = spur::mysql::parse_url(config.database_url);
    if (db.max_statement_time.count() == 0) db.max_statement_time = std::chrono::seconds(1);
    return db;
}

std::string public_url(const Config& config) {
    std::string url = config.public_url;
    if (url.empty()) {
        std::string host = config.host;
        if (host == "0.0.0.0" || host == "::" || host.empty()) host = "localhost";
        else if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6
        url = "http://" + host + ":" + std::to_string(config.port);
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
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
    options.http2.tls = config.http2;
    options.http2.cleartext = config.h2c;
    if (!config.tls_cert.empty()) {
        options.tls.emplace();
        options.tls->certificate.cert_chain_file = config.tls_cert;
        options.tls->certificate.private_key_file = config.tls_key;
        options.tls->port = config.tls_port;
    }
    return options;
}

std::optional<Config> load_config(int argc, char** argv, bool& help) {
    return load_config(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc), [](const std::string& name) {
        const char* value = std::getenv(name.c_str());
        return value ? std::optional<std::string>(value) : std::nullopt;
    }, help);
}

std::optional<Config> load_config(const std::vector<std::string>& args, const Environment& env, bool& help) {
    GivenSettings given;
    auto read = [&](const std::string& name) {
        if (auto text = env(name)) given[name] = {*text, name};
    };
    for (const Setting& s : settings()) {
        read(std::string(s.env));
        if (s.secret) read(std::string(s.env) + "_FILE");
    }
    Config c;
    help = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            help = true;
            return std::nullopt;
        }
        if (a == "serve" || a == "migrate" || a == "openapi" || a == "settings") {
            c.command = a;
            // `migrate up` and `migrate status`: the word is spur::mysql::migrate_cli's to read.
            if (a == "migrate" && i + 1 < args.size() && (args[i + 1] == "up" || args[i + 1] == "status")) c.migrate_action = args[++i];
            continue;
        }
        // --flag=value or --flag value, as getopt_long takes them; a flag overrides the variable.
        if (a.rfind("--", 0) != 0) throw std::invalid_argument("unknown argument: " + a + " (see --help)");
        const auto eq = a.find('=');
        const std::string flag = a.substr(0, eq);
        const auto [setting, name] = find_flag(flag);
        if (const auto seen = given.find(name); seen != given.end() && seen->second.source.starts_with("--"))
            throw std::invalid_argument(flag + " is given twice (see --help)");
        if (!setting->flag_means.empty()) {
            if (eq != std::string::npos) throw std::invalid_argument(flag + " takes no value (see --help)");
            given[name] = {std::string(setting->flag_means), flag};
        } else if (eq != std::string::npos) {
            given[name] = {a.substr(eq + 1), flag};
        } else {
            if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value (see --help)");
            given[name] = {args[++i], flag};
        }
    }
    if (c.command == "settings") return c;  // prints the table: no setting matters
    for (const Setting& s : settings()) {
        // `openapi` reads no secret: it gets stand-ins below.
        if (s.secret && c.command == "openapi") continue;
        const auto text = given_text(given, s);
        if (!text) {
            if (s.parse.unset) s.parse.unset(c);
            continue;
        }
        if (const auto must = s.parse.store(c, text->text))
            throw std::invalid_argument(text->source + " must be " + *must +
                                        (s.secret ? "" : " (not \"" + text->text + "\")"));
    }
    // What no single setting can check alone.
    if (c.tls_cert.empty() != c.tls_key.empty()) throw std::invalid_argument("TLS_CERT and TLS_KEY go together");
    if (c.command == "openapi") {
        // The document needs the routes, not a database or a real secret: nothing connects.
        c.database_url = "mysql://openapi@127.0.0.1/openapi";
        c.jwt_secret = spur::random_token(48);
        return c;
    }
    if (c.database_url.empty()) throw std::invalid_argument("DATABASE_URL is required (see --help)");
    try {
        (void)database_config(c);  // a malformed URL is a setting's error, named, before anything starts
    } catch (const std::exception& e) {
        throw std::invalid_argument(std::string("DATABASE_URL: ") + e.what());
    }
    if (c.jwt_secret.empty() && c.command == "serve") {
        if (!c.dev) throw std::invalid_argument("JWT_SECRET is required outside development mode (see --help)");
        c.jwt_secret = spur::random_token(48);  // tokens then last only until the next start
    }
    return c;
}

}  // namespace app
