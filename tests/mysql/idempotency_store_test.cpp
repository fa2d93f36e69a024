// Idempotency keys in MariaDB (spur::mysql::IdempotencyStore): two Apps with a pool and a store
// each stand for two instances sharing the table. The handler writes a row in its own
// transaction and marks the key applied there (applied_in). Lock and expiry are moved in SQL,
// never waited for.
#include <spur/mysql/idempotency_store.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include "support.hpp"
#include "support/gate.hpp"
#include "support/test_server.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace spur;
namespace mw = spur::middleware;
using spur::test::run;
using spur::test::test_db;

namespace {
testing::Headers key(std::string k, testing::Headers more = {}) {
    more.emplace_back("Idempotency-Key", std::move(k));
    return more;
}

std::string code(const testing::Result& r) { return std::string(r.json().at("error").at("code").as_string()); }

// The error lines an app logs, kept for the test to read.
struct ErrorLines {
    std::mutex mutex;
    std::vector<std::string> lines;
    void add(LogLevel level, std::string_view line) {
        if (level < LogLevel::error) return;
        std::lock_guard lock(mutex);
        lines.emplace_back(line);
    }
    std::vector<std::string> read() {
        std::lock_guard lock(mutex);
        return lines;
    }
};

// One instance: its own pool, store and app over the shared tables.
struct StoreInstance {
    ErrorLines errors;
    mysql::Pool pool{test_db(4)};
    mysql::IdempotencyStore store;
    App app{AppOptions{.log = [this](LogLevel level, std::string_view line) { errors.add(level, line); }}};
    explicit StoreInstance(const std::string& table, mysql::IdempotencyStoreOptions options = {})
        : store(pool, with_table(std::move(options), table)) {}
    static mysql::IdempotencyStoreOptions with_table(mysql::IdempotencyStoreOptions o, const std::string& table) {
        o.table = table;
        return o;
    }
};

// Two instances, a table per test case (CTest runs the cases in parallel processes) and a
// table of items the handlers write. POST /items inserts an item and marks the key applied in
// one transaction; with `hold` set, its first run waits at `gate` between the two. POST /crash
// does the same and then fails, as an instance dying before its answer is stored would.
struct Cluster {
    std::string table, items;
    StoreInstance a, b;
    test::Gate gate;
    std::atomic<int> runs{0};
    bool hold = false;

    explicit Cluster(const std::string& name, mw::IdempotencyOptions options = {}, mysql::IdempotencyStoreOptions store = {})
        : table(name), items(name + "_items"), a(table, store), b(table, store) {
        mysql::IdempotencyStoreOptions store_options;
        store_options.table = table;
        const auto migration = mysql::IdempotencyStore::migration(1, store_options);  // named: GCC 12
        boost::asio::io_context io;
        run(io, [&]() -> Task<> {
            co_await a.pool.query("DROP TABLE IF EXISTS " + table);
            co_await a.pool.query(migration.sql);
            co_await a.store.create_table();  // on top of the migration: IF NOT EXISTS
            co_await spur::test::reset_table(
                a.pool, "CREATE TABLE " + items + " (id INT AUTO_INCREMENT PRIMARY KEY, run INT NOT NULL) ENGINE=InnoDB");
        }());
        for (StoreInstance* i : {&a, &b}) {
            i->app.use(mw::idempotency(i->store, options));
            i->app.post("/items", [this, i](Request& req, Response& res) -> Task<> {
                const int n = ++runs;
                co_await write(*i, req, n);
                res.status(201).json({{"run", n}});
            });
            i->app.post("/crash", [this, i](Request& req, Response&) -> Task<> {
                co_await write(*i, req, ++runs);
                throw std::runtime_error("the instance died before storing its answer");
            });
        }
    }

    Task<> write(StoreInstance& i, Request& req, int n) {
        auto work = [&](mysql::Connection& tx) -> Task<> {
            co_await tx.execute("INSERT INTO " + items + " (run) VALUES (?)", n);
            if (hold && n == 1) co_await gate.wait();
            co_await i.store.applied_in(tx, req);
        };
        co_await i.pool.transaction(work);
    }

    std::int64_t scalar(const std::string& sql) {
        boost::asio::io_context io;
        return run(io, [&]() -> Task<std::int64_t> {
            auto r = co_await a.pool.execute(sql);
            co_return r.front().get<std::int64_t>(0);
        }());
    }
    void sql(const std::string& statement) {
        boost::asio::io_context io;
        run(io, [&]() -> Task<> { co_await a.pool.execute(statement); }());
    }
    std::int64_t item_count() { return scalar("SELECT COUNT(*) FROM " + items); }
};

// Runs a request on its own thread (the first instance's, held at the gate) and joins it
// however the test ends.
struct Held {
    Cluster& c;
    testing::Client client;
    testing::Result result;
    std::thread thread;
    Held(Cluster& cluster, StoreInstance& instance, std::string path, std::string k)
        : c(cluster), client(instance.app), thread([this, path, k] { result = client.post(path, "x", key(k)); }) {}
    testing::Result finish() {
        c.gate.open();
        thread.join();
        return result;
    }
    ~Held() {
        c.gate.open();
        if (thread.joinable()) thread.join();
    }
};

// A store whose begin() takes the key and then waits at `gate`: a client that leaves there has
// had its key taken (the INSERT ran) before the middleware knows the claim. `cut`: the wait
// was cancelled (the client's leaving reached it).
struct SlowBegin : mw::IdempotencyStore {
    mw::IdempotencyStore& inner;
    test::Gate& gate;
    std::atomic<bool> cut{false};
    SlowBegin(mw::IdempotencyStore& store, test::Gate& g) : inner(store), gate(g) {}
    Task<mw::IdempotencyBegin> begin(std::string scope, std::string k, std::string print, std::chrono::milliseconds lock,
                                     std::chrono::seconds ttl) override {
        auto begun = co_await inner.begin(std::move(scope), std::move(k), std::move(print), lock, ttl);
        try {
            co_await gate.wait();
        } catch (...) {
            cut = true;
            throw;
        }
        co_return begun;
    }
    Task<> complete(std::string scope, std::string k, std::string claim, mw::StoredResponse r) override {
        return inner.complete(std::move(scope), std::move(k), std::move(claim), std::move(r));
    }
    Task<> complete_without_response(std::string scope, std::string k, std::string claim) override {
        return inner.complete_without_response(std::move(scope), std::move(k), std::move(claim));
    }
    Task<> release(std::string scope, std::string k, std::string claim) override {
        return inner.release(std::move(scope), std::move(k), std::move(claim));
    }
};
}  // namespace

TEST_CASE("a retry to another instance gets the stored answer, and the table holds only hashes", "[mysql][idempotency]") {
    Cluster c("idem_shared");
    testing::Client a(c.a.app), b(c.b.app);
    auto first = a.post("/items", "x", key("order-1", {{"Authorization", "Bearer alice"}}));
    REQUIRE(first.status == 201);
    auto replayed = b.post("/items", "x", key("order-1", {{"Authorization", "Bearer alice"}}));
    CHECK(replayed.status == 201);
    CHECK(replayed.body == first.body);
    CHECK(replayed.header("Content-Type") == "application/json");
    CHECK(replayed.header("Idempotent-Replayed") == "true");
    CHECK(code(b.post("/items", "y", key("order-1", {{"Authorization", "Bearer alice"}}))) == "idempotency_key_reused");
    // Another principal's key of the same name is its own.
    CHECK(b.post("/items", "x", key("order-1", {{"Authorization", "Bearer bob"}})).json().at("run") == 2);
    CHECK(c.item_count() == 2);
    CHECK(c.scalar("SELECT COUNT(*) FROM idem_shared WHERE state = 2 AND LENGTH(key_hash) = 64 AND LENGTH(scope_hash) = 64") == 2);
    CHECK(c.scalar("SELECT COUNT(*) FROM idem_shared WHERE key_hash = SHA2('order-1', 256)") == 2);
    CHECK(c.scalar("SELECT COUNT(DISTINCT scope_hash) FROM idem_shared") == 2);
}

TEST_CASE("a kept answer is sealed: the table never holds its body or headers in clear, and a tampered one is never run again",
          "[mysql][idempotency]") {
    // An answer may carry a secret shown once (a new API key, a fresh token): a reader of the
    // table, or of a backup, must not find it there.
    Cluster c("idem_sealed");
    c.a.app.post("/keys", [](Request&, Response& res) {
        res.status(201).set("Location", "/keys/secret-location-7");
        res.json({{"secret", "sk_live_do_not_store_me"}});
    });
    c.b.app.post("/keys", [](Request&, Response& res) { res.status(500).send("must not run"); });
    testing::Client a(c.a.app), b(c.b.app);
    auto first = a.post("/keys", "x", key("k-sealed"));
    REQUIRE(first.status == 201);
    CHECK(c.scalar("SELECT COUNT(*) FROM idem_sealed WHERE state = 2") == 1);
    CHECK(c.scalar("SELECT COUNT(*) FROM idem_sealed WHERE LOCATE('sk_live', body) > 0 OR LOCATE('secret-location', headers) > 0") == 0);
    auto replayed = b.post("/keys", "x", key("k-sealed"));
    CHECK(replayed.status == 201);
    CHECK(replayed.body == first.body);
    CHECK(replayed.header("Location") == "/keys/secret-location-7");
    CHECK(replayed.header("Idempotent-Replayed") == "true");
    // A body that does not open (edited, or kept in clear by an older version): the effect
    // happened, its answer is gone — 409, not a second run.
    c.sql("UPDATE idem_sealed SET body = 'x'");
    auto tampered = b.post("/keys", "x", key("k-sealed"));
    CHECK(tampered.status == 409);
    CHECK(code(tampered) == "idempotency_key_applied");
}

TEST_CASE("a principal's large answers are kept up to max_answer_bytes_per_scope, then sent but kept as applied",
          "[mysql][idempotency]") {
    // Create a large resource, delete it, again: the resource's quota never fills, but each
    // answer was kept for a day — the table grew without bound on one account's word.
    Cluster c("idem_budget", {}, mysql::IdempotencyStoreOptions{.max_answer_bytes_per_scope = 25'000});
    int n = 0;
    for (StoreInstance* i : {&c.a, &c.b})
        i->app.post("/big", [&n](Request&, Response& res) { res.status(201).send(std::to_string(++n) + std::string(10'000, 'x')); });
    testing::Client a(c.a.app), b(c.b.app);
    const testing::Headers alice{{"Authorization", "Bearer alice"}}, bob{{"Authorization", "Bearer bob"}};
    for (const char* k : {"big-1", "big-2", "big-3"}) REQUIRE(a.post("/big", "x", key(k, alice)).status == 201);
    CHECK(n == 3);
    // Two fit alice's budget and replay; the third was sent, its key kept without its answer.
    CHECK(b.post("/big", "x", key("big-1", alice)).header("Idempotent-Replayed") == "true");
    CHECK(b.post("/big", "x", key("big-2", alice)).body.substr(0, 1) == "2");
    auto third = b.post("/big", "x", key("big-3", alice));
    CHECK(third.status == 409);
    CHECK(code(third) == "idempotency_key_applied");
    CHECK(n == 3);
    // Small answers are always kept; another principal has a budget of its own.
    CHECK(a.post("/items", "x", key("small", alice)).status == 201);
    CHECK(b.post("/items", "x", key("small", alice)).header("Idempotent-Replayed") == "true");
    REQUIRE(a.post("/big", "x", key("big-1", bob)).status == 201);
    CHECK(b.post("/big", "x", key("big-1", bob)).header("Idempotent-Replayed") == "true");
    CHECK(c.scalar("SELECT COUNT(*) FROM idem_budget WHERE state = 1") == 1);
}

TEST_CASE("concurrent first requests with one key on two instances: one runs, the other gets 409", "[mysql][idempotency][concurrency]") {
    Cluster c("idem_concurrent");
    c.hold = true;
    testing::Client b(c.b.app);
    Held first(c, c.a, "/items", "k");
    REQUIRE(c.gate.wait_arrived());
    auto busy = b.post("/items", "x", key("k"));
    CHECK(busy.status == 409);
    CHECK(code(busy) == "idempotency_key_in_use");
    CHECK(busy.header("Retry-After") == "1");
    auto done = first.finish();
    CHECK(done.status == 201);
    auto replayed = b.post("/items", "x", key("k"));
    CHECK(replayed.body == done.body);
    CHECK(replayed.header("Idempotent-Replayed") == "true");
    CHECK(c.runs == 1);
    CHECK(c.item_count() == 1);
}

TEST_CASE("a key whose lock passed is taken over, and the first request's late write rolls back", "[mysql][idempotency][concurrency]") {
    Cluster c("idem_takeover");
    c.hold = true;
    testing::Client b(c.b.app);
    Held first(c, c.a, "/items", "k");  // inserted its item, not committed, held before applied_in
    REQUIRE(c.gate.wait_arrived());
    CHECK(code(b.post("/items", "x", key("k"))) == "idempotency_key_in_use");
    // The first instance looks crashed: its lock passes, and a retry takes the key over.
    c.sql("UPDATE idem_takeover SET locked_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND");
    auto taken = b.post("/items", "x", key("k"));
    CHECK(taken.status == 201);
    CHECK(taken.json().at("run") == 2);
    // The first one comes back: applied_in finds the key gone, so its transaction rolls back.
    auto late = first.finish();
    CHECK(late.status == 409);
    CHECK(code(late) == "idempotency_key_in_use");
    CHECK(c.item_count() == 1);
    CHECK(c.scalar("SELECT run FROM idem_takeover_items") == 2);
    auto replayed = b.post("/items", "x", key("k"));  // the key keeps the run that holds it
    CHECK(replayed.body == taken.body);
    CHECK(c.runs == 2);
}

TEST_CASE("an applied request whose answer was lost gives 409 idempotency_key_applied, never a second run", "[mysql][idempotency]") {
    Cluster c("idem_applied");
    testing::Client a(c.a.app), b(c.b.app);
    CHECK(a.post("/crash", "x", key("k")).status == 500);
    CHECK(c.item_count() == 1);  // the write committed with the key
    auto retry = b.post("/crash", "x", key("k"));
    CHECK(retry.status == 409);
    CHECK(code(retry) == "idempotency_key_applied");
    // Not even once its lock passes: the effect happened.
    c.sql("UPDATE idem_applied SET locked_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND");
    CHECK(code(b.post("/crash", "x", key("k"))) == "idempotency_key_applied");
    CHECK(c.runs == 1);
    CHECK(c.item_count() == 1);
}

TEST_CASE("an expired key is used afresh and purge_expired deletes only expired keys", "[mysql][idempotency]") {
    Cluster c("idem_expiry");
    testing::Client a(c.a.app), b(c.b.app);
    REQUIRE(a.post("/items", "x", key("old")).status == 201);
    REQUIRE(a.post("/items", "x", key("kept")).status == 201);
    c.sql("UPDATE idem_expiry SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE key_hash = SHA2('old', 256)");
    auto fresh = b.post("/items", "another body", key("old"));  // neither a replay nor a 422
    CHECK(fresh.status == 201);
    CHECK(fresh.header("Idempotent-Replayed").empty());
    CHECK(fresh.json().at("run") == 3);
    c.sql("UPDATE idem_expiry SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE key_hash = SHA2('old', 256)");
    boost::asio::io_context io;
    CHECK(run(io, c.a.store.purge_expired(1)) == 1);
    CHECK(c.scalar("SELECT COUNT(*) FROM idem_expiry") == 1);
    CHECK(b.post("/items", "x", key("kept")).header("Idempotent-Replayed") == "true");
}

TEST_CASE("a request that fails before applying frees its key on every instance", "[mysql][idempotency]") {
    Cluster c("idem_release");
    int calls = 0;
    c.a.app.post("/flaky", [&](Request&, Response& res) {
        if (++calls == 1) throw HttpError(503, "busy", "try again");
        res.status(201).send("done");
    });
    c.b.app.post("/flaky", [&](Request&, Response& res) { res.status(201).send("done on b #" + std::to_string(++calls)); });
    testing::Client a(c.a.app), b(c.b.app);
    CHECK(a.post("/flaky", "x", key("k")).status == 503);
    CHECK(c.scalar("SELECT COUNT(*) FROM idem_release") == 0);
    CHECK(b.post("/flaky", "x", key("k")).body == "done on b #2");
    CHECK(a.post("/flaky", "x", key("k")).body == "done on b #2");
}

TEST_CASE("a client that leaves mid-request frees its key in the table, so its retry runs", "[mysql][idempotency][concurrency]") {
    Cluster c("idem_left");
    c.hold = true;
    auto rows = [&] { return c.scalar("SELECT COUNT(*) FROM idem_left"); };
    spur::test::TestServer server(c.a.app);
    const std::string request = "POST /items HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\nContent-Length: 1\r\n\r\nx";
    {
        spur::test::RawConnection gone(server.port());
        gone.send(request);
        REQUIRE(c.gate.wait_arrived());
        CHECK(rows() == 1);
    }  // the client leaves: the handler is cancelled at the gate, its transaction rolls back
    // The key is released although the request's coroutine was cancelled.
    CHECK(spur::test::eventually([&] { return rows() == 0; }));
    c.gate.open();
    spur::test::RawConnection retry(server.port());
    retry.send(request);
    auto answer = retry.read_response();
    REQUIRE(answer);
    CHECK(answer->result_int() == 201);
    CHECK(c.runs == 2);
    CHECK(c.item_count() == 1);
    // A client that left is no server error: nothing is logged as one (App::handle answers such
    // a request 499 without a line; the middleware's own settling must not turn it into a 500).
    CHECK(c.a.errors.read().empty());
}

TEST_CASE("a client that leaves while its key is being taken frees it, so its retry runs", "[mysql][idempotency][concurrency]") {
    Cluster c("idem_left_begin");
    test::Gate taking;
    SlowBegin slow(c.a.store, taking);
    ErrorLines errors;
    App app{AppOptions{.log = [&errors](LogLevel level, std::string_view line) { errors.add(level, line); }}};
    app.use(mw::idempotency(slow));
    std::atomic<int> runs{0};
    app.post("/items", [&runs](Request&, Response& res) { res.status(201).json({{"run", ++runs}}); });
    auto rows = [&] { return c.scalar("SELECT COUNT(*) FROM idem_left_begin"); };
    spur::test::TestServer server(app);
    const std::string request = "POST /items HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\nContent-Length: 1\r\n\r\nx";
    {
        spur::test::RawConnection gone(server.port());
        gone.send(request);
        REQUIRE(taking.wait_arrived());
        CHECK(rows() == 1);
    }  // the client leaves with its key taken, before the middleware holds its claim
    // Cut there, begin() would leave the key locked and unknown until `lock` passed (10 s), and
    // the retry would get 409 idempotency_key_in_use meanwhile.
    spur::test::eventually([&] { return slow.cut.load(); }, std::chrono::milliseconds(300));
    taking.open();
    CHECK(spur::test::eventually([&] { return rows() == 0; }));
    spur::test::RawConnection retry(server.port());
    retry.send(request);
    auto answer = retry.read_response();
    REQUIRE(answer);
    CHECK(answer->result_int() == 201);
    CHECK(runs == 1);  // the request whose client left did not run
    CHECK(errors.read().empty());
}
