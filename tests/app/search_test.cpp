// Searching texts cannot take the database away from everyone else (issue #31, finding 3):
// one search per account, a global limit below the pool size, a bounded scan, no COUNT(*).
// Searches are held in flight by a metadata lock the test holds (TableHold), not raced.
#include "harness.hpp"

#include "db_session.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace app::test;
using boost::beast::http::verb;
namespace json = boost::json;

namespace {
// A held search statement shows in the processlist with this text (`texts` in its FROM).
const std::string search_statement = "FROM texts%LIKE";
const std::string long_q = std::string(99, 'a') + "b";

// Searches started on threads, each on its own connection; their answers kept for the end.
class Searches {
public:
    explicit Searches(Running& app) : app_(app) {}
    ~Searches() { join(); }
    void start(const Headers& who) {
        threads_.emplace_back([this, who] {
            auto r = get(app_, "/api/texts?q=" + long_q, who);
            std::lock_guard lock(mutex_);
            replies_.push_back(std::move(r));
            ++done_;
        });
    }
    int done() const { return done_; }
    void join() {
        for (auto& t : threads_) t.join();
        threads_.clear();
    }
    int count(int status, const std::string& code = {}) {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& r : replies_)
            if (r.status == status && (code.empty() || r.json().at("error").at("code") == json::value(code))) ++n;
        return n;
    }

private:
    Running& app_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::vector<Reply> replies_;
    std::atomic<int> done_{0};
};

app::Config held_config() {
    auto config = test_config();
    // A held statement must not be stopped by the server while the test holds it; a request
    // that finds the pool empty gives up after 1 s (a 503), not the default 5 s.
    config.database_url += "&max_statement_time_ms=120000&acquire_timeout_ms=1000";
    return config;
}
}  // namespace

TEST_CASE("ten concurrent searches of one account leave other users' /api/auth/me and /readyz answering", "[app][texts][search]") {
    Running app(held_config(), true, Via::wire);
    auto searcher = bearer(signup(app, unique_email("searcher")));
    auto bystander = bearer(signup(app, unique_email("bystander")));
    REQUIRE(post(app, "/api/texts", {{"title", "t"}, {"content", std::string(1000, 'a')}}, searcher).status == 201);

    Searches searches(app);  // before the lock: if the test fails, the lock goes first
    DbSession watch;
    TableHold lock("texts");  // every search statement now waits: held in flight
    for (int i = 0; i < 10; ++i) searches.start(searcher);
    // Each search has either been answered or is waiting inside the database.
    wait_until([&] { return searches.done() + watch.waiting_for_table(search_statement) == 10; });

    auto me = get(app, "/api/auth/me", bystander);
    auto ready = get(app, "/readyz");
    lock.release();
    searches.join();
    CHECK(me.status == 200);
    CHECK(ready.status == 200);
    CHECK(searches.count(200) == 1);  // one search per account at a time
    CHECK(searches.count(429, "search_in_progress") == 9);
    // The account may search again once its search has ended.
    CHECK(get(app, "/api/texts?q=a", searcher).status == 200);
}

TEST_CASE("searches beyond the global limit (below the pool size) get 429 too_many_searches", "[app][texts][search]") {
    Running app(held_config(), true, Via::wire);
    constexpr unsigned limit = 4;  // MAX_SEARCHES' default
    std::vector<Headers> users;
    for (unsigned i = 0; i <= limit; ++i) users.push_back(bearer(signup(app, unique_email("many"))));
    auto bystander = bearer(signup(app, unique_email("bystander")));

    Searches held(app), extra(app);  // before the lock: if the test fails, the lock goes first
    DbSession watch;
    TableHold lock("texts");
    for (unsigned i = 0; i < limit; ++i) held.start(users[i]);
    wait_until([&] { return watch.waiting_for_table(search_statement) == limit; });

    extra.start(users[limit]);
    // Answered at once, or (without a limit) waiting inside the database with the others.
    wait_until([&] { return extra.done() == 1 || watch.waiting_for_table(search_statement) > limit; });
    auto me = get(app, "/api/auth/me", bystander);
    lock.release();
    extra.join();
    held.join();
    CHECK(extra.count(429, "too_many_searches") == 1);
    CHECK(me.status == 200);
    CHECK(held.count(200) == static_cast<int>(limit));
}

TEST_CASE("a search reads a bounded prefix of each content, and answers has_more instead of counting", "[app][texts][search]") {
    Running app;
    auto h = bearer(signup(app, unique_email("prefix")));
    const std::string head(100, 'x');
    // The needle after the searched prefix (16384 characters), and one inside it.
    REQUIRE(post(app, "/api/texts", {{"title", "far"}, {"content", head + std::string(20000, '.') + "NeedleFar"}}, h).status == 201);
    REQUIRE(post(app, "/api/texts", {{"title", "near"}, {"content", head + "Needle near the start"}}, h).status == 201);
    REQUIRE(post(app, "/api/texts", {{"title", "Title needle"}, {"content", "nothing"}}, h).status == 201);

    auto near = get(app, "/api/texts?q=needle%20near", h);
    REQUIRE(near.status == 200);
    CHECK(near.json().at("items").as_array().size() == 1);  // case-insensitive, as before
    CHECK(get(app, "/api/texts?q=NeedleFar", h).json().at("items").as_array().empty());
    CHECK(get(app, "/api/texts?q=title%20NEEDLE", h).json().at("items").as_array().size() == 1);

    auto page = get(app, "/api/texts?q=needle&limit=1", h).json();
    CHECK(page.at("items").as_array().size() == 1);
    CHECK(page.at("has_more") == true);
    CHECK(page.at("total").is_null());  // a search is not counted
    auto last = get(app, "/api/texts?q=needle&limit=1&offset=1", h).json();
    CHECK(last.at("has_more") == false);
    // The plain list is still counted (an index range of one account: at most MAX_TEXTS_PER_USER).
    auto all = get(app, "/api/texts?limit=2", h).json();
    CHECK(all.at("total") == 3);
    CHECK(all.at("has_more") == true);
}
