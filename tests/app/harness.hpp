#pragma once
// spur-app against the test MariaDB, reached in-process (spur::testing::Client) or over real sockets.

#include "migrate.hpp"
#include "routes.hpp"
#include "services.hpp"

#include "support/database_url.hpp"
#include "support/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <spur/testing/client.hpp>

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

namespace app::test {

inline const std::string test_secret(40, 'j');

inline Config test_config() {
    Config c;
    c.database_url = spur::test::database_url();
    c.jwt_secret = test_secret;
    c.bcrypt_cost = 10;
    c.log_format = "off";
    c.login_burst_per_ip = 1000;
    c.login_burst_per_email = 1000;
    c.register_burst_per_ip = 100000;
    c.public_metrics = true;  // the tests read /metrics where they make requests
    c.require_verified_email = false;  // only recovery_test is about verified addresses
    return c;
}

struct Reply {
    int status = 0;
    boost::beast::http::fields headers;
    std::string body;
    boost::json::value json() const { return boost::json::parse(body); }
    std::string_view header(std::string_view name) const { return headers[name]; }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One request on its own connection.
inline Reply call(unsigned short port, boost::beast::http::verb method, const std::string& target,
                  const std::string& body = {}, const Headers& headers = {}) {
    namespace http = boost::beast::http;
    spur::test::RawConnection conn(port, std::chrono::seconds(30));
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "test");
    req.set(http::field::connection, "close");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    std::ostringstream wire;
    wire << req;
    conn.send(wire.str());
    auto r = conn.read_response(method == http::verb::head);
    if (!r) throw std::runtime_error("no response to " + target);
    return Reply{static_cast<int>(r->result_int()), r->base(), r->body()};
}

/// Appends one exchange to <SPUR_CONTRACT_LOG_DIR>/responses-<pid>.jsonl when that directory exists:
/// tests/contract/check.mjs then validates every response against the schema the OpenAPI
/// document declares for its route and status (the contract test).
inline void record_for_contract(std::string_view method, const std::string& target, const Reply& reply) {
#ifdef SPUR_CONTRACT_LOG_DIR
    static const std::string dir = std::getenv("SPUR_CONTRACT_LOG_DIR") ? std::getenv("SPUR_CONTRACT_LOG_DIR") : SPUR_CONTRACT_LOG_DIR;
#else
    static const std::string dir = std::getenv("SPUR_CONTRACT_LOG_DIR") ? std::getenv("SPUR_CONTRACT_LOG_DIR") : "";
#endif
    if (dir.empty() || !std::filesystem::is_directory(dir)) return;
    boost::json::object line{{"method", method}, {"target", target}, {"status", reply.status},
                             {"content_type", std::string(reply.header("Content-Type"))}};
    if (!reply.header("Content-Encoding").empty()) line["body_omitted"] = true;  // compressed bytes: the status still counts
    else if (reply.body.size() <= (2u << 20)) line["body"] = reply.body;
    else line["body_omitted"] = true;  // a multi-megabyte text: the status is still checked
    std::ofstream(dir + "/responses-" + std::to_string(::getpid()) + ".jsonl", std::ios::app)
        << boost::json::serialize(line) << '\n';
}

/// How a test reaches the app: in-process through spur::testing::Client (the default, for
/// everything about the API), or over real sockets where the wire itself is the subject.
enum class Via { in_process, wire };

/// One instance of spur-app against the test database. Over the wire, the server drains
/// first, then the services and pool close.
class Running {
public:
    explicit Running(Config config = test_config(), bool migrate = true, Via via = Via::in_process) {
        auto db = database_config(config);
        if (migrate) migrations_now(db, true);
        pool_ = std::make_unique<spur::mysql::Pool>(db);
        services_ = std::make_unique<Services>(std::move(config), *pool_);
        app_ = std::make_unique<spur::App>(build_app(*services_));
        if (via == Via::wire) {
            auto options = server_options(services_->config);
            const auto test = spur::test::test_options();
            options.host = test.host;
            options.port = test.port;
            options.threads = test.threads;
            options.handle_signals = test.handle_signals;
            server_ = std::make_unique<spur::test::TestServer>(*app_, std::move(options));
            services_->metrics.watch(server_->server());
        } else {
            client_ = std::make_unique<spur::testing::Client>(*app_);
        }
    }
    explicit Running(Via via) : Running(test_config(), true, via) {}
    ~Running() {
        if (server_) server_->stop();
        client_.reset();
        services_.reset();
        pool_.reset();
        server_.reset();
    }
    /// The port of a Via::wire instance.
    unsigned short port() const {
        if (!server_) throw std::logic_error("an in-process Running has no port: construct it with Via::wire");
        return server_->port();
    }
    Services& services() { return *services_; }
    spur::App& app() { return *app_; }

    Reply call(boost::beast::http::verb method, const std::string& target, const std::string& body = {},
               const Headers& headers = {}) {
        Reply reply = exchange(method, target, body, headers);
        record_for_contract(boost::beast::http::to_string(method), target, reply);
        return reply;
    }

private:
    Reply exchange(boost::beast::http::verb method, const std::string& target, const std::string& body,
                   const Headers& headers) {
        if (server_) return test::call(port(), method, target, body, headers);
        spur::testing::Headers h(headers.begin(), headers.end());
        const bool typed = std::any_of(h.begin(), h.end(), [](const auto& kv) {
            return boost::beast::iequals(kv.first, "Content-Type");
        });
        if (!body.empty() && !typed) h.emplace_back("Content-Type", "application/json");
        auto r = client_->request(std::string(boost::beast::http::to_string(method)), target, body, h);
        return Reply{r.status, std::move(r.headers), std::move(r.body)};
    }

    std::unique_ptr<spur::mysql::Pool> pool_;
    std::unique_ptr<Services> services_;
    std::unique_ptr<spur::App> app_;
    std::unique_ptr<spur::test::TestServer> server_;
    std::unique_ptr<spur::testing::Client> client_;
};

inline Reply call(Running& app, boost::beast::http::verb method, const std::string& target,
                  const std::string& body = {}, const Headers& headers = {}) {
    return app.call(method, target, body, headers);
}
inline Reply post(Running& app, const std::string& target, const boost::json::value& body, const Headers& h = {}) {
    return app.call(boost::beast::http::verb::post, target, boost::json::serialize(body), h);
}
inline Reply get(Running& app, const std::string& target, const Headers& h = {}) {
    return app.call(boost::beast::http::verb::get, target, {}, h);
}
inline Reply put(Running& app, const std::string& target, const boost::json::value& body, const Headers& h = {}) {
    return app.call(boost::beast::http::verb::put, target, boost::json::serialize(body), h);
}
/// A DELETE with a JSON body, labelled application/json unless `h` names a Content-Type.
inline Reply del_json(Running& app, const std::string& target, const boost::json::value& body, Headers h = {}) {
    if (std::none_of(h.begin(), h.end(), [](const auto& field) { return field.first == "Content-Type"; }))
        h.emplace_back("Content-Type", "application/json");
    return app.call(boost::beast::http::verb::delete_, target, boost::json::serialize(body), h);
}
inline Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

/// A fresh unique address per call, so tests never collide in the shared database.
inline std::string unique_email(const std::string& tag) {
    static std::atomic<int> n{0};
    return tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "@example.com";
}

/// Registers and logs in; returns the token.
inline std::string signup(Running& app, const std::string& email, const std::string& password = "password123") {
    auto r = post(app, "/api/auth/register", {{"email", email}, {"password", password}});
    if (r.status != 201) throw std::runtime_error("register failed: " + r.body);
    auto l = post(app, "/api/auth/login", {{"email", email}, {"password", password}});
    if (l.status != 200) throw std::runtime_error("login failed: " + l.body);
    return std::string(l.json().at("token").as_string());
}

}  // namespace app::test

namespace spur::test {
/// The first column of the first row of a query on the test database (for checking stored state).
inline std::string test_db_row(boost::asio::io_context& io, const std::string& sql, const std::string& arg) {
    std::string out;
    {
        spur::mysql::Pool pool(spur::mysql::parse_url(spur::test::database_url()));
        boost::asio::co_spawn(io, [&]() -> spur::Task<> {
            auto r = co_await pool.execute(sql, arg);
            if (!r.empty()) out = std::string(r.front()[0].as_string());
        }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
        io.run();
    }
    return out;
}
}  // namespace spur::test
