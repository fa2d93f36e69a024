// Sessions in MariaDB (spur::mysql::SessionStore) behind real servers: the table's state is
// checked directly after each step.
#include <spur/mysql/session_store.hpp>

#include <spur/app.hpp>
#include <spur/middleware/session.hpp>

#include "support.hpp"
#include "support/session_app.hpp"
#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

#include <atomic>
#include <thread>

using namespace spur;
using namespace std::chrono_literals;
using spur::test::run;
using spur::test::test_db;

namespace {
const std::string store_secret(40, 'm');

App session_app(const std::shared_ptr<mysql::SessionStore>& store, std::chrono::seconds max_age = 24h, bool rolling = true) {
    return test::session_app(middleware::SessionOptions{.secret = store_secret, .store = store, .max_age = max_age, .rolling = rolling});
}

struct Reply {
    int status;
    std::string cookie;  // "spur.sid=..." if the response set one
    boost::json::value body;
};

Reply call(unsigned short port, std::string_view method, std::string_view target, const std::string& cookie = {}) {
    auto r = spur::test::round_trip(port, std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" +
                                              (cookie.empty() ? "" : "Cookie: " + cookie + "\r\n") +
                                              "Content-Length: 0\r\nConnection: close\r\n\r\n");
    if (!r) throw std::runtime_error("no response");  // not REQUIRE: called from worker threads too
    std::string set(r->base()[boost::beast::http::field::set_cookie]);
    return Reply{static_cast<int>(r->result_int()), set.substr(0, set.find(';')),
                 r->body().empty() ? boost::json::value() : boost::json::parse(r->body())};
}

// The stored row of session `id` as (data, expires_at), or nullopt.
std::optional<std::pair<boost::json::value, std::int64_t>> row(mysql::Pool& pool, const std::string& table, const std::string& id) {
    boost::asio::io_context io;
    return run(io, [&]() -> Task<std::optional<std::pair<boost::json::value, std::int64_t>>> {
        auto r = co_await pool.execute("SELECT data, expires_at FROM " + table + " WHERE id = ?", id);
        if (r.empty()) co_return std::nullopt;
        co_return std::make_pair(boost::json::parse(r.front().get<std::string>("data")), r.front().get<std::int64_t>("expires_at"));
    }());
}

std::string id_of(const std::string& cookie) {
    auto value = cookie.substr(cookie.find('=') + 1);
    return value.substr(0, value.rfind('.'));
}

// A table per test case: CTest runs the cases in parallel processes.
struct Fixture {
    std::string table;
    mysql::Pool pool{test_db(8)};
    std::shared_ptr<mysql::SessionStore> store;
    explicit Fixture(std::string name) : table(std::move(name)), store(std::make_shared<mysql::SessionStore>(pool, mysql::SessionStoreOptions{.table = table})) {
        boost::asio::io_context io;
        run(io, [&]() -> Task<> {
            co_await pool.query("DROP TABLE IF EXISTS " + table);
            co_await store->create_table();
            co_await store->create_table();  // idempotent
        }());
    }
};
}  // namespace

TEST_CASE("the MariaDB store keeps the data in its table and only the signed id in the cookie", "[mysql][session][concurrency]") {
    Fixture f("sessions_cookie_id");
    auto app = session_app(f.store);
    spur::test::TestServer srv(app);
    auto r = call(srv.port(), "POST", "/inc");
    REQUIRE(r.status == 200);
    const auto id = id_of(r.cookie);
    CHECK(id.size() == 43);  // 256 random bits, base64url
    auto stored = row(f.pool, f.table, id);
    REQUIRE(stored);
    CHECK(stored->first == boost::json::parse(R"({"count":1})"));
    r = call(srv.port(), "POST", "/inc", r.cookie);
    CHECK(r.body.at("count") == 2);
    CHECK(row(f.pool, f.table, id)->first.at("count") == 2);
    // A forged id (a valid id with the signature of another) is never looked up as a session.
    const auto forged = "spur.sid=" + id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    CHECK(call(srv.port(), "GET", "/count", forged).body.at("new") == true);
}

TEST_CASE("sessions in MariaDB are shared by every app instance using the table", "[mysql][session][concurrency]") {
    Fixture f("sessions_shared");
    auto first_app = session_app(f.store);
    auto second_app = session_app(std::make_shared<mysql::SessionStore>(f.pool, mysql::SessionStoreOptions{.table = f.table}));
    spur::test::TestServer first(first_app), second(second_app);
    auto r = call(first.port(), "POST", "/inc");
    r = call(second.port(), "POST", "/inc", r.cookie);
    CHECK(r.body.at("count") == 2);
    CHECK(call(first.port(), "GET", "/count", r.cookie).body.at("count") == 2);
}

TEST_CASE("regenerate on login makes the planted id worthless, destroy removes the row", "[mysql][session][concurrency]") {
    Fixture f("sessions_fixation");
    auto app = session_app(f.store);
    spur::test::TestServer srv(app);
    // The attacker obtains a session and plants its cookie in the victim's browser.
    const auto planted = call(srv.port(), "POST", "/inc").cookie;
    auto login = call(srv.port(), "POST", "/login", planted);
    const auto new_id = login.body.at("id").as_string();
    CHECK(new_id != id_of(planted));
    CHECK(id_of(login.cookie) == std::string(new_id));
    CHECK_FALSE(row(f.pool, f.table, id_of(planted)));          // the old id is gone from the table
    CHECK(row(f.pool, f.table, std::string(new_id))->first.at("count") == 1);  // the data moved with the session
    CHECK(call(srv.port(), "GET", "/count", planted).body.at("new") == true);
    CHECK(call(srv.port(), "GET", "/count", login.cookie).body.at("count") == 1);

    auto out = call(srv.port(), "POST", "/logout", login.cookie);
    CHECK(out.status == 204);
    CHECK(out.cookie == "spur.sid=");
    CHECK_FALSE(row(f.pool, f.table, std::string(new_id)));
    // Unlike a cookie-only session, the old cookie is now dead everywhere.
    CHECK(call(srv.port(), "GET", "/count", login.cookie).body.at("new") == true);
}

TEST_CASE("an expired session is never loaded and purge_expired deletes its row", "[mysql][session][concurrency]") {
    Fixture f("sessions_expiry");
    auto app = session_app(f.store, 1s, false);
    spur::test::TestServer srv(app);
    const auto cookie = call(srv.port(), "POST", "/inc").cookie;
    const auto also_expired = call(srv.port(), "POST", "/inc").cookie;
    std::this_thread::sleep_for(1100ms);
    CHECK(call(srv.port(), "GET", "/count", cookie).body.at("new") == true);
    // Written just now, a row that stays: purge must only take expired ones.
    auto fresh_app = session_app(f.store);
    spur::test::TestServer fresh(fresh_app);
    const auto kept = call(fresh.port(), "POST", "/inc").cookie;
    boost::asio::io_context io;
    CHECK(run(io, f.store->purge_expired(1)) == 2);  // batches of one: the loop goes round
    CHECK_FALSE(row(f.pool, f.table, id_of(cookie)));
    CHECK_FALSE(row(f.pool, f.table, id_of(also_expired)));
    CHECK(row(f.pool, f.table, id_of(kept)));
}

TEST_CASE("concurrent requests of one session: reads never undo a write, every request is answered", "[mysql][session][concurrency]") {
    Fixture f("sessions_concurrent");
    auto app = session_app(f.store);
    spur::test::TestServer srv(app);
    const auto cookie = call(srv.port(), "POST", "/inc").cookie;
    const auto id = id_of(cookie);
    // Make every read below move the expiry, so each of them writes to the row.
    boost::asio::io_context io;
    run(io, [&]() -> Task<> { co_await f.pool.execute("UPDATE " + f.table + " SET expires_at = expires_at - 600000 WHERE id = ?", id); }());

    std::atomic<int> failures{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 12; ++i)
        clients.emplace_back([&, i] {
            try {
            auto r = i == 6 ? call(srv.port(), "POST", "/set/written", cookie) : call(srv.port(), "GET", "/count", cookie);
            if (r.status != (i == 6 ? 204 : 200)) ++failures;
            if (i != 6 && r.body.at("count") != 1) ++failures;
            } catch (...) {
                ++failures;
            }
        });
    for (auto& c : clients) c.join();
    CHECK(failures == 0);
    auto stored = row(f.pool, f.table, id);
    REQUIRE(stored);
    CHECK(stored->first.at("count") == 1);
    CHECK(stored->first.at("written") == true);  // no read saved its stale copy over the write
    CHECK(call(srv.port(), "GET", "/count", cookie).body.at("count") == 1);

    // Concurrent writes: each answered, the row stays one valid session (the later write wins).
    clients.clear();
    for (int i = 0; i < 8; ++i)
        clients.emplace_back([&, i] {
            try {
                if (call(srv.port(), "POST", "/set/k" + std::to_string(i), cookie).status != 204) ++failures;
            } catch (...) {
                ++failures;
            }
        });
    for (auto& c : clients) c.join();
    CHECK(failures == 0);
    stored = row(f.pool, f.table, id);
    REQUIRE(stored);
    CHECK(stored->first.at("count") == 1);
    CHECK(stored->first.as_object().size() >= 3);
}
