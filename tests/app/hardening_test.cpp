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
std::string error_code(const Reply& r) { return std::string(r.json().at("error").at("code").as_string()); }
std::string secret_of(const Reply& r) { return std::string(r.json().at("secret").as_string()); }
json::object key_body(const std::string& name, const std::string& password = "password123") {
    return {{"name", name}, {"password", password}};
}
std::string db_value(const std::string& sql, const std::string& arg) {
    boost::asio::io_context io;
    return spur::test::test_db_row(io, sql, arg);
}
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

// ---- API keys ------------------------------------------------------------------------------

TEST_CASE("creating an API key asks for the password again - missing 400, wrong 403, then throttled", "[app][keys][hostile]") {
    auto config = test_config();
    config.login_burst_per_email = 4;  // the signup's login takes one
    Running app(config);
    auto h = bearer(signup(app, unique_email("keymaker")));
    auto missing = post(app, "/api/keys", {{"name", "k"}}, h);
    CHECK(missing.status == 400);
    CHECK(error_code(missing) == "validation_error");
    auto wrong = post(app, "/api/keys", key_body("k", "not-my-password"), h);
    CHECK(wrong.status == 403);
    CHECK(error_code(wrong) == "invalid_credentials");
    auto right = post(app, "/api/keys", key_body("k"), h);
    CHECK(right.status == 201);
    CHECK(post(app, "/api/keys", key_body("k", "guess-2"), h).status == 403);
    CHECK(post(app, "/api/keys", key_body("k", "guess-3"), h).status == 429);  // the account's login bucket
    CHECK(get(app, "/api/keys", h).json().at("items").as_array().size() == 1);
}

TEST_CASE("API keys expire after 90 days unless told otherwise, and after 365 at most", "[app][keys][hostile]") {
    Running app;
    auto h = bearer(signup(app, unique_email("expiry")));
    auto days_left = [](const Reply& created) {
        return db_value("SELECT CAST(ROUND(TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(3), expires_at) / 1440) AS CHAR) "
                        "FROM api_keys WHERE prefix = ?", secret_of(created).substr(0, 11));
    };
    auto plain = post(app, "/api/keys", key_body("default"), h);
    REQUIRE(plain.status == 201);
    CHECK(plain.json().at("key").at("expires_at").is_string());
    CHECK(days_left(plain) == "90");
    auto body = key_body("null");
    body["expires_in_days"] = nullptr;
    CHECK(days_left(post(app, "/api/keys", body, h)) == "90");
    body["expires_in_days"] = 365;
    CHECK(days_left(post(app, "/api/keys", body, h)) == "365");
    body["expires_in_days"] = 366;
    auto too_long = post(app, "/api/keys", body, h);
    CHECK(too_long.status == 400);
    CHECK(error_code(too_long) == "validation_error");
}

TEST_CASE("log out everywhere and a password change revoke the account's API keys", "[app][keys][hostile]") {
    Running app;
    auto email = unique_email("revoker");
    auto h = bearer(signup(app, email));
    const Headers key{{"X-API-Key", secret_of(post(app, "/api/keys", key_body("before logout-all"), h))}};
    REQUIRE(get(app, "/api/texts", key).status == 200);
    REQUIRE(post(app, "/api/auth/logout-all", {}, h).status == 204);
    CHECK(get(app, "/api/texts", key).status == 401);

    auto login = post(app, "/api/auth/login", {{"email", email}, {"password", "password123"}});
    h = bearer(std::string(login.json().at("token").as_string()));
    const Headers later{{"X-API-Key", secret_of(post(app, "/api/keys", key_body("after"), h))}};
    REQUIRE(get(app, "/api/texts", later).status == 200);  // a key made after logout-all works
    REQUIRE(post(app, "/api/auth/password", {{"current_password", "password123"}, {"new_password", "brand-new-pass"}}, h).status == 200);
    CHECK(get(app, "/api/texts", later).status == 401);
}

TEST_CASE("an API key's last_used_at is written at most once a minute", "[app][keys][hostile]") {
    Running app;
    auto h = bearer(signup(app, unique_email("lastused")));
    const std::string secret = secret_of(post(app, "/api/keys", key_body("k"), h));
    const std::string prefix = secret.substr(0, 11);
    const Headers key{{"X-API-Key", secret}};
    auto stored = [&] { return db_value("SELECT CAST(last_used_at AS CHAR) FROM api_keys WHERE prefix = ?", prefix); };
    auto set_used = [&](const std::string& ago) {
        db_value("UPDATE api_keys SET last_used_at = UTC_TIMESTAMP(3) - INTERVAL " + ago + " WHERE prefix = ?", prefix);
    };
    REQUIRE(get(app, "/api/texts", key).status == 200);
    CHECK_FALSE(stored().empty());  // the first use is recorded
    set_used("30 SECOND");
    const auto recent = stored();
    REQUIRE(get(app, "/api/texts", key).status == 200);
    CHECK(stored() == recent);  // used 30 s ago: not written again
    set_used("61 SECOND");
    const auto old = stored();
    REQUIRE(get(app, "/api/texts", key).status == 200);
    CHECK(stored() != old);  // over a minute: written
}

// ---- content and personal data -------------------------------------------------------------

TEST_CASE("C0 control characters other than tab, LF and CR are refused in a text's title and content", "[app][texts][hostile]") {
    Running app;
    auto h = bearer(signup(app, unique_email("control")));
    auto ok = post(app, "/api/texts", {{"title", "tab\there"}, {"content", "lines\r\nand\ttabs"}}, h);
    REQUIRE(ok.status == 201);
    const std::string id = std::to_string(ok.json().at("text").at("id").to_number<std::uint64_t>());
    for (const std::string& bad : {std::string("\x01"), std::string("a\x1b[31m"), std::string(1, '\0'), std::string("\x1f")}) {
        auto content = post(app, "/api/texts", {{"title", "t"}, {"content", bad}}, h);
        CHECK(content.status == 400);
        CHECK(content.json().at("error").at("details").at(0).at("path") == "/content");
        auto title = post(app, "/api/texts", {{"title", "t" + bad}, {"content", "c"}}, h);
        CHECK(title.status == 400);
        CHECK(title.json().at("error").at("details").at(0).at("path") == "/title");
        CHECK(put(app, "/api/texts/" + id, {{"content", bad}}, h).status == 400);
        CHECK(put(app, "/api/texts/" + id, {{"title", bad}}, h).status == 400);
    }
    CHECK(get(app, "/api/texts/" + id, h).json().at("text").at("content") == "lines\r\nand\ttabs");
    CHECK(get(app, "/api/texts", h).json().at("items").as_array().size() == 1);
}

TEST_CASE("every personal-data response says Cache-Control: private, no-store", "[app][hostile]") {
    Running app;
    auto email = unique_email("private");
    auto registered = post(app, "/api/auth/register", {{"email", email}, {"password", "password123"}});
    auto login = post(app, "/api/auth/login", {{"email", email}, {"password", "password123"}});
    auto h = bearer(std::string(login.json().at("token").as_string()));
    auto text = post(app, "/api/texts", {{"title", "t"}, {"content", "c"}}, h);
    const std::string id = std::to_string(text.json().at("text").at("id").to_number<std::uint64_t>());
    auto key = post(app, "/api/keys", key_body("k"), h);
    const std::vector<std::pair<std::string, Reply>> personal{
        {"register", registered},
        {"login", login},
        {"session", post(app, "/api/auth/session", {{"email", email}, {"password", "password123"}})},
        {"me", get(app, "/api/auth/me", h)},
        {"texts", get(app, "/api/texts", h)},
        {"search", get(app, "/api/texts?q=t", h)},
        {"create text", text},
        {"text", get(app, "/api/texts/" + id, h)},
        {"update text", put(app, "/api/texts/" + id, {{"title", "u"}}, h)},
        {"create key", key},
        {"keys", get(app, "/api/keys", h)},
    };
    for (const auto& [what, reply] : personal) {
        INFO(what);
        CHECK(reply.status / 100 == 2);
        CHECK(reply.header("Cache-Control") == "private, no-store");
    }
    CHECK(get(app, "/healthz").header("Cache-Control") != "private, no-store");  // not personal
}

TEST_CASE("over https the session cookie is __Host-spur_session - plain http keeps spur_session", "[app][web][hostile]") {
    auto config = test_config();
    config.trusted_proxies = {"127.0.0.1"};  // the test plays the TLS-terminating proxy
    Running app(config, true, Via::wire);
    auto email = unique_email("hostcookie");
    REQUIRE(post(app, "/api/auth/register", {{"email", email}, {"password", "password123"}}).status == 201);
    const json::object credentials{{"email", email}, {"password", "password123"}};
    const Headers https{{"X-Forwarded-Proto", "https"}};

    auto secure = post(app, "/api/auth/session", credentials, https);
    REQUIRE(secure.status == 200);
    const std::string set(secure.header("Set-Cookie"));
    CHECK(set.starts_with("__Host-spur_session="));
    CHECK(set.find("; Secure") != std::string::npos);
    CHECK(set.find("Path=/") != std::string::npos);
    CHECK(set.find("Domain") == std::string::npos);
    const std::string token = set.substr(set.find('=') + 1, set.find(';') - set.find('=') - 1);
    Headers host_cookie = https;
    host_cookie.emplace_back("Cookie", "__Host-spur_session=" + token);
    CHECK(get(app, "/api/auth/me", host_cookie).status == 200);
    // Over https only the prefixed name counts: a cookie a sibling domain could plant is ignored.
    Headers plain_name = https;
    plain_name.emplace_back("Cookie", "spur_session=" + token);
    CHECK(get(app, "/api/auth/me", plain_name).status == 401);
    auto out = call(app, verb::post, "/api/auth/logout", {}, host_cookie);
    CHECK(out.status == 204);
    CHECK(std::string(out.header("Set-Cookie")).starts_with("__Host-spur_session=;"));

    auto plain = post(app, "/api/auth/session", credentials);
    REQUIRE(plain.status == 200);
    CHECK(std::string(plain.header("Set-Cookie")).starts_with("spur_session="));
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
