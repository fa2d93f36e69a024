// spur-app under hostile use (issue #31): password-confirming endpoints, API keys, content,
// personal-data caching, the session cookie's name over https, and login-failure logs.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>

using namespace app::test;
namespace json = boost::json;

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
