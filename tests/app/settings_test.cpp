#include "settings.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>

namespace {

using Variables = std::map<std::string, std::string>;

// An environment of exactly `variables`, plus what every load needs (a database and a secret).
app::Environment environment(Variables variables = {}) {
    variables.try_emplace("DATABASE_URL", "mysql://app@127.0.0.1/app");
    variables.try_emplace("JWT_SECRET", std::string(40, 's'));
    return [variables](const std::string& name) -> std::optional<std::string> {
        const auto it = variables.find(name);
        return it == variables.end() ? std::nullopt : std::optional(it->second);
    };
}

app::Config load(const std::vector<std::string>& args, Variables variables = {}) {
    bool help = false;
    auto config = app::load_config(args, environment(std::move(variables)), help);
    REQUIRE(config);
    return *config;
}

// The message load_config refuses the settings with ("" when it takes them).
std::string refusal(const std::vector<std::string>& args, Variables variables = {}) {
    bool help = false;
    try {
        app::load_config(args, environment(std::move(variables)), help);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a bad value is refused with an error naming its variable or flag and the value", "[app]") {
    CHECK(refusal({}, {{"PORT", "80a"}}) == "PORT must be a number from 0 to 65535 (not \"80a\")");
    CHECK(refusal({"--port=70000"}) == "--port must be a number from 0 to 65535 (not \"70000\")");
    CHECK(refusal({"--bcrypt-cost", "9"}) == "--bcrypt-cost must be a number from 10 to 31 (not \"9\")");
    CHECK(refusal({}, {{"LOG_FORMAT", "xml"}}) == "LOG_FORMAT must be dev, combined, json or off (not \"xml\")");
    CHECK(refusal({}, {{"JWT_TTL", "59"}}) == "JWT_TTL must be a number of seconds from 60 to 2592000 (not \"59\")");
    CHECK(refusal({}, {{"UNIX_MODE", "999"}}) == "UNIX_MODE must be octal permissions, e.g. 660 (not \"999\")");
    CHECK(refusal({"--public-metrics=yes"}) == "--public-metrics must be 0 or 1 (not \"yes\")");
    CHECK(refusal({}, {{"METRICS_LISTEN", "127.0.0.1:0"}}).starts_with("METRICS_LISTEN must be IP:port"));
    CHECK(refusal({}, {{"DOCS_ASSETS", "/nonexistent"}}).starts_with("DOCS_ASSETS must be a directory holding"));
    CHECK(refusal({"--no-such-thing=1"}) == "unknown flag: --no-such-thing (see --help)");
    CHECK(refusal({"--port"}) == "--port needs a value (see --help)");
    CHECK(refusal({"--dev=1"}) == "--dev takes no value (see --help)");
}

TEST_CASE("a secret's bad value is refused without repeating it", "[app]") {
    CHECK(refusal({}, {{"JWT_SECRET", "short-secret"}}) == "JWT_SECRET must be at least 32 bytes long");
    CHECK(refusal({"--jwt-secret=short-secret"}) == "--jwt-secret must be at least 32 bytes long");
    CHECK(refusal({}, {{"JWT_SECRET_FILE", "/nonexistent"}}) == "give JWT_SECRET or JWT_SECRET_FILE, not both");
    CHECK(refusal({}, {{"DATABASE_URL", ""}}) == "DATABASE_URL is required (see --help)");
    CHECK(refusal({}, {{"TLS_CERT", "cert.pem"}}) == "TLS_CERT and TLS_KEY go together");
}

TEST_CASE("a flag overrides its environment variable", "[app]") {
    const auto c = load({"--port", "4000", "--log-format=json", "--cors-origins=https://b.test", "--dev"},
                        {{"PORT", "3000"}, {"LOG_FORMAT", "combined"}, {"CORS_ORIGINS", "https://a.test"},
                         {"SPUR_ENV", "production"}, {"HOST", "127.0.0.1"}});
    CHECK(c.port == 4000);
    CHECK(c.log_format == "json");
    CHECK(c.cors_origins == std::vector<std::string>{"https://b.test"});
    CHECK(c.dev);
    CHECK(c.host == "127.0.0.1");  // no flag: the variable's
    // Any spelling of a flag's name, as before the table.
    CHECK(load({"--LOG_FORMAT=off"}).log_format == "off");
}

TEST_CASE("settings neither the environment nor a flag gives keep their defaults", "[app]") {
    const auto c = load({});
    const app::Config defaults;
    CHECK(c.command == "serve");
    CHECK(c.port == defaults.port);
    CHECK(c.host == defaults.host);
    CHECK(c.jwt_ttl == defaults.jwt_ttl);
    CHECK(c.bcrypt_cost == defaults.bcrypt_cost);
    CHECK(c.max_connections == defaults.max_connections);
    CHECK(c.unix_mode == defaults.unix_mode);
    CHECK(c.drain_delay == defaults.drain_delay);
    CHECK(c.trusted_proxies.empty());
    CHECK(c.metrics_listen.empty());
    CHECK_FALSE(c.dev);
    CHECK(load({}, {{"SPUR_ENV", "development"}}).dev);
    // Each default, given back as its setting's text, is taken and leaves the value as it was.
    for (const app::Setting& s : app::settings()) {
        if (!s.fallback.empty()) continue;
        INFO(s.env);
        const std::string text = s.parse.show(defaults);
        app::Config parsed;
        if (!text.empty()) CHECK_FALSE(s.parse.store(parsed, text));
        CHECK(s.parse.show(parsed) == text);
    }
}

TEST_CASE("metrics listen address is split into host and port", "[app]") {
    const auto c = load({"--metrics-listen=[::1]:9464"});
    CHECK(c.metrics_listen == "[::1]:9464");
    CHECK(c.metrics_host == "::1");
    CHECK(c.metrics_port == 9464);
    CHECK(load({}, {{"DRAIN_DELAY", "2"}}).drain_delay == std::chrono::seconds(2));
    CHECK(load({}, {{"UNIX_MODE", "600"}}).unix_mode == 0600u);
}

TEST_CASE("openapi and settings need neither a database nor a secret", "[app]") {
    bool help = false;
    const auto none = [](const std::string&) { return std::optional<std::string>(); };
    CHECK(app::load_config({"openapi"}, none, help)->command == "openapi");
    CHECK(app::load_config({"settings"}, none, help)->command == "settings");
    CHECK(refusal({"openapi"}, {{"JWT_SECRET", "short"}}).empty());
}

TEST_CASE("help lists every setting with its flag and default", "[app]") {
    bool help = false;
    CHECK_FALSE(app::load_config({"--port=1", "--help"}, environment(), help));
    CHECK(help);
    const std::string usage = app::usage();
    const std::string markdown = app::settings_markdown();
    for (const app::Setting& s : app::settings()) {
        INFO(s.env);
        const std::string env(s.env), flag(s.flag);
        const std::string names = s.secret ? env + ", " + env + "_FILE  " + flag + ", " + flag + "-file" : env + "  " + flag;
        CHECK(usage.find("\n  " + names + "\n") != std::string::npos);
        CHECK(markdown.find("| `" + std::string(s.env) + "`") != std::string::npos);
    }
    CHECK(usage.find("JWT_SECRET, JWT_SECRET_FILE  --jwt-secret, --jwt-secret-file") != std::string::npos);
    CHECK(usage.find("  PORT  --port\n      listen port; default: 3001\n") != std::string::npos);
    CHECK(usage.find("I/O threads, 1 to 256; default: one per core\n") != std::string::npos);
}

TEST_CASE("the command is a word of its own - migrate with its action, or a flag's value", "[app]") {
    auto status = load({"--cors-origins", "migrate", "migrate", "status"});
    CHECK(status.command == "migrate");
    CHECK(status.migrate_action == "status");
    auto up = load({"migrate"});
    CHECK(up.command == "migrate");
    CHECK(up.migrate_action == "up");
    auto serve = load({"serve", "--cors-origins", "migrate", "--port", "0"});
    CHECK(serve.command == "serve");
}

TEST_CASE("addresses, SPUR_ENV, the database URL and repeated flags are checked when the settings load", "[app]") {
    CHECK(refusal({"--host", "not a host"}).find("--host must be an IP address") == 0);
    CHECK(refusal({}, {{"HOST", "localhost"}}).find("HOST must be an IP address") == 0);
    CHECK(load({"--host", "::"}).host == "::");
    for (const char* bad : {"a:b:80", " :80", "[:80", "example.com:9464"})
        CHECK(refusal({}, {{"METRICS_LISTEN", bad}}).find("METRICS_LISTEN must be IP:port") == 0);
    CHECK(load({}, {{"METRICS_LISTEN", "[::1]:9464"}}).metrics_host == "::1");
    CHECK(refusal({}, {{"SPUR_ENV", "Development"}}).find("SPUR_ENV must be `development` or `production`") == 0);
    CHECK_FALSE(load({}, {{"SPUR_ENV", "production"}}).dev);
    CHECK(refusal({}, {{"DATABASE_URL", "postgres://x@h/db"}}).find("DATABASE_URL: ") == 0);
    CHECK(refusal({"--port", "1", "--port", "2"}) == "--port is given twice (see --help)");
}
