// spur-app under hostile use (issue #31): password-confirming endpoints, API keys, content,
// personal-data caching, the session cookie's name over https, and login-failure logs.
#include "harness.hpp"

#include "db_session.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

using namespace app::test;
using boost::beast::http::verb;
namespace json = boost::json;

namespace {
Headers with_json(Headers h) {
    h.emplace_back("Content-Type", "application/json");
    return h;
}
Reply del_json(Running& app, const std::string& target, const json::value& body, const Headers& h) {
    return call(app, verb::delete_, target, json::serialize(body), with_json(h));
}
std::string error_code(const Reply& r) { return std::string(r.json().at("error").at("code").as_string()); }
std::uint64_t user_id(Running& app, const Headers& h) {
    return get(app, "/api/auth/me", h).json().at("user").at("id").to_number<std::uint64_t>();
}
}  // namespace

// ---- password-confirming endpoints ----------------------------------------------------------

TEST_CASE("password confirmation counts against the per-address login limit too - across accounts", "[app][auth][hostile]") {
    Running setup;  // accounts made where nothing is throttled
    std::vector<std::string> tokens;
    for (int i = 0; i < 3; ++i) tokens.push_back(signup(setup, unique_email("confirmer")));

    auto config = test_config();
    config.login_burst_per_ip = 2;
    config.login_burst_per_email = 1000;  // each account's own bucket stays full
    Running app(config);
    auto change = [&](const std::string& token) {
        return post(app, "/api/auth/password", {{"current_password", "wrong-guess"}, {"new_password", "brand-new-pass"}},
                    bearer(token));
    };
    CHECK(change(tokens[0]).status == 403);
    CHECK(del_json(app, "/api/auth/me", {{"password", "wrong-guess"}}, bearer(tokens[1])).status == 403);
    auto third = change(tokens[2]);  // a third account, the same address: its bucket is spent
    CHECK(third.status == 429);
    CHECK(error_code(third) == "too_many_requests");
    CHECK(del_json(app, "/api/auth/me", {{"password", "password123"}}, bearer(tokens[2])).status == 429);
}

TEST_CASE("one password operation per account at a time - a second one while the first is held gets 429", "[app][auth][hostile]") {
    auto config = test_config();
    config.database_url += "&max_statement_time_ms=120000";  // the held UPDATE must not be stopped
    Running app(config, true, Via::wire);
    auto token = bearer(signup(app, unique_email("twice")));
    const auto id = user_id(app, token);

    std::optional<Reply> first, second;
    std::atomic<bool> second_done{false};
    std::jthread changing, deleting;  // declared before the lock: a failing test releases it first
    DbSession lock, watch;
    lock.query("BEGIN");
    lock.query("SELECT id FROM users WHERE id = " + std::to_string(id) + " FOR UPDATE");
    changing = std::jthread([&] {
        first = post(app, "/api/auth/password", {{"current_password", "password123"}, {"new_password", "brand-new-pass"}}, token);
    });
    // The change has checked the password and hashed the new one: its UPDATE waits for the row.
    wait_until([&] { return watch.running("UPDATE users SET password_hash") == 1; });
    deleting = std::jthread([&] {
        second = del_json(app, "/api/auth/me", {{"password", "password123"}}, token);
        second_done = true;
    });
    // Refused at once, or (without the limit) through bcrypt and waiting for the row as well.
    wait_until([&] { return second_done || watch.running("DELETE FROM users") == 1; });
    lock.query("ROLLBACK");
    deleting.join();
    changing.join();
    REQUIRE(second);
    CHECK(second->status == 429);
    CHECK(error_code(*second) == "password_check_in_progress");
    REQUIRE(first);
    CHECK(first->status == 200);
    // Once it has finished, the next one may run.
    auto fresh = bearer(std::string(first->json().at("token").as_string()));
    CHECK(del_json(app, "/api/auth/me", {{"password", "brand-new-pass"}}, fresh).status == 204);
}

// ---- logs ----------------------------------------------------------------------------------

TEST_CASE("a failed login's log line carries the client address", "[app][auth][hostile]") {
    auto lines = std::make_shared<std::vector<json::object>>();
    auto mutex = std::make_shared<std::mutex>();
    auto config = test_config();
    config.trusted_proxies = {"127.0.0.1"};
    config.log_sink = [lines, mutex](const spur::LogRecord& record) {
        json::object line{{"message", record.message}};
        for (const auto& field : record.fields) line[field.key] = field.value;
        std::lock_guard lock(*mutex);
        lines->push_back(std::move(line));
    };
    Running app(config, true, Via::wire);
    auto email = unique_email("failing");
    REQUIRE(post(app, "/api/auth/register", {{"email", email}, {"password", "password123"}}).status == 201);
    REQUIRE(post(app, "/api/auth/login", {{"email", email}, {"password", "wrong-password"}},
                 {{"X-Forwarded-For", "203.0.113.9"}}).status == 401);
    std::lock_guard lock(*mutex);
    auto failed = std::find_if(lines->begin(), lines->end(), [](const json::object& l) { return l.at("message") == "login failed"; });
    REQUIRE(failed != lines->end());
    CHECK(failed->at("client") == "203.0.113.9");
}
