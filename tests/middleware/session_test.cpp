#include <spur/middleware/session.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <thread>
#include "support/session_app.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

using namespace spur;
using namespace std::chrono_literals;

namespace {
const std::string session_secret(40, 's');

middleware::SessionOptions cookie_options() { return middleware::SessionOptions{.secret = session_secret}; }

// "spur.sid=VALUE" from a Set-Cookie header, for the next request's Cookie header.
std::string cookie_pair(std::string_view set_cookie) { return std::string(set_cookie.substr(0, set_cookie.find(';'))); }

testing::Headers with(const std::string& cookie) { return {{"Cookie", cookie}}; }
}  // namespace

TEST_CASE("a session cookie appears once something is stored and carries the data back", "[middleware][session]") {
    auto app = test::session_app(cookie_options());
    testing::Client client(app);
    auto r = client.get("/count");
    CHECK(r.json().at("new") == true);
    CHECK(r.header("Set-Cookie").empty());  // reading an empty session stores nothing

    r = client.post("/inc", "");
    const auto set = std::string(r.header("Set-Cookie"));
    CHECK(set.rfind("spur.sid=", 0) == 0);
    CHECK(set.find("; HttpOnly") != std::string::npos);
    CHECK(set.find("; SameSite=Lax") != std::string::npos);
    CHECK(set.find("; Max-Age=86400") != std::string::npos);
    CHECK(set.find("Secure") == std::string::npos);  // a plain-HTTP request
    const auto cookie = cookie_pair(set);

    r = client.post("/inc", "", with(cookie));
    CHECK(r.json().at("count") == 2);
    r = client.get("/count", with(cookie_pair(r.header("Set-Cookie"))));
    CHECK(r.json().at("count") == 2);
    CHECK(r.json().at("new") == false);
    CHECK(r.header("Set-Cookie").empty());  // read within the minute: nothing to write
}

TEST_CASE("a tampered or foreign session cookie starts a new, empty session", "[middleware][session]") {
    auto app = test::session_app(cookie_options());
    testing::Client client(app);
    const auto cookie = cookie_pair(client.post("/inc", "").header("Set-Cookie"));
    auto tampered = cookie;
    tampered[12] = tampered[12] == 'A' ? 'B' : 'A';  // inside the payload, before the signature
    auto r = client.get("/count", with(tampered));
    CHECK(r.json().at("count") == 0);
    CHECK(r.json().at("new") == true);
    // A cookie signed with another secret is as good as none.
    auto other = test::session_app(middleware::SessionOptions{.secret = std::string(40, 'o')});
    testing::Client other_client(other);
    const auto foreign = cookie_pair(other_client.post("/inc", "").header("Set-Cookie"));
    CHECK(client.get("/count", with(foreign)).json().at("new") == true);
    CHECK(client.get("/count", with("spur.sid=garbage")).json().at("new") == true);
}

TEST_CASE("changes made by a handler that throws are not saved", "[middleware][session]") {
    auto app = test::session_app(cookie_options());
    testing::Client client(app);
    const auto cookie = cookie_pair(client.post("/inc", "").header("Set-Cookie"));
    auto r = client.get("/throws", with(cookie));
    CHECK(r.status == 409);
    CHECK(r.header("Set-Cookie").empty());
    CHECK(client.get("/count", with(cookie)).json().at("count") == 1);
}

TEST_CASE("rolling sessions live while used, absolute ones end max_age after creation", "[middleware][session]") {
    auto rolling_app = test::session_app(middleware::SessionOptions{.secret = session_secret, .max_age = 1s, .rolling = true});
    auto absolute_app = test::session_app(middleware::SessionOptions{.secret = session_secret, .max_age = 1s, .rolling = false});
    testing::Client rolling(rolling_app), absolute(absolute_app);
    auto rolling_cookie = cookie_pair(rolling.post("/inc", "").header("Set-Cookie"));
    auto absolute_cookie = cookie_pair(absolute.post("/inc", "").header("Set-Cookie"));
    std::this_thread::sleep_for(600ms);
    auto r = rolling.get("/count", with(rolling_cookie));
    CHECK(r.json().at("count") == 1);
    REQUIRE_FALSE(r.header("Set-Cookie").empty());  // the expiry moved: a fresh cookie
    rolling_cookie = cookie_pair(r.header("Set-Cookie"));
    r = absolute.get("/count", with(absolute_cookie));
    CHECK(r.json().at("count") == 1);
    CHECK(r.header("Set-Cookie").empty());  // absolute: nothing moves on a read
    std::this_thread::sleep_for(600ms);                  // 1.2 s after creation, 0.6 s after the last use
    CHECK(rolling.get("/count", with(rolling_cookie)).json().at("count") == 1);
    r = absolute.get("/count", with(absolute_cookie));
    CHECK(r.json().at("count") == 0);
    CHECK(r.json().at("new") == true);
}

TEST_CASE("regenerate gives a new id keeping the data, destroy clears the cookie", "[middleware][session]") {
    auto app = test::session_app(cookie_options());
    testing::Client client(app);
    auto r = client.post("/inc", "");
    const auto before = client.get("/count", with(cookie_pair(r.header("Set-Cookie")))).json().at("id");
    r = client.post("/login", "", with(cookie_pair(r.header("Set-Cookie"))));
    CHECK(r.json().at("id") != before);
    const auto cookie = cookie_pair(r.header("Set-Cookie"));
    auto after = client.get("/count", with(cookie)).json();
    CHECK(after.at("count") == 1);
    CHECK(after.at("id") == r.json().at("id"));
    r = client.post("/logout", "", with(cookie));
    CHECK(r.status == 204);
    const auto cleared = std::string(r.header("Set-Cookie"));
    CHECK(cleared.rfind("spur.sid=;", 0) == 0);
    CHECK(cleared.find("Max-Age=0") != std::string::npos);
}

TEST_CASE("the cookie store refuses a session that would not fit in a cookie", "[middleware][session]") {
    App app;
    app.use(middleware::session(cookie_options()));
    app.post("/big", [](Request& req, Response& res) {
        session(req).set("blob", std::string(5000, 'x'));
        res.end();
    });
    testing::Client client(app);
    CHECK(client.post("/big", "").status == 500);
}

TEST_CASE("session options are checked when the middleware is made", "[middleware][session]") {
    CHECK_THROWS_AS(middleware::session(middleware::SessionOptions{.secret = "short"}), std::invalid_argument);
    CHECK_THROWS_AS(middleware::session(middleware::SessionOptions{.secret = session_secret, .store = nullptr}), std::invalid_argument);
    App app;
    app.get("/", [](Request& req, Response& res) { res.send(session(req).id()); });
    testing::Client client(app);
    CHECK(client.get("/").status == 500);  // spur::session() without the middleware: a logic error
}

TEST_CASE("the session cookie is Secure when a trusted proxy says the request came over HTTPS", "[middleware][session][server]") {
    auto app = test::session_app(cookie_options());
    auto options = test::test_options();
    options.trusted_proxies = {"127.0.0.1"};
    test::TestServer srv(app, options);
    auto r = test::round_trip(srv.port(), "POST /inc HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n"
                                          "Content-Length: 0\r\nConnection: close\r\n\r\n");
    REQUIRE(r);
    CHECK(std::string((*r)[boost::beast::http::field::set_cookie]).find("; Secure") != std::string::npos);
    r = test::round_trip(srv.port(), "POST /inc HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    REQUIRE(r);
    CHECK(std::string((*r)[boost::beast::http::field::set_cookie]).find("Secure") == std::string::npos);
}
