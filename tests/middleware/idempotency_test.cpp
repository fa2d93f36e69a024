// middleware::idempotency() with the in-memory store, through the in-process client; a fake
// clock stands in for the passing of `lock` and `ttl`.
#include <spur/middleware/idempotency.hpp>

#include <spur/app.hpp>
#include <spur/testing/client.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include "support/gate.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace spur;
using namespace std::chrono_literals;
namespace mw = spur::middleware;
using Clock = std::chrono::steady_clock;

namespace {
testing::Headers key(std::string k, testing::Headers more = {}) {
    more.emplace_back("Idempotency-Key", std::move(k));
    return more;
}

std::string code(const testing::Result& r) { return std::string(r.json().at("error").at("code").as_string()); }

// An app with the middleware in front of counting routes, on a store with a fake clock.
struct Fixture {
    const Clock::time_point start = Clock::now();
    std::atomic<std::int64_t> elapsed_ms{0};
    mw::MemoryIdempotencyStore store;
    std::atomic<int> calls{0};
    App app{AppOptions{.log = [](LogLevel, std::string_view) {}}};

    explicit Fixture(mw::IdempotencyOptions options = {}, mw::MemoryIdempotencyStoreOptions store_options = {})
        : store(with_clock(std::move(store_options))) {
        app.use(mw::idempotency(store, std::move(options)));
        app.post("/items", [this](Request& req, Response& res) {
            const int n = ++calls;
            res.status(201).set("Location", "/items/" + std::to_string(n)).set("ETag", "\"v1\"").set("X-Not-Kept", "x");
            res.cookie("visit", std::to_string(n));
            res.json({{"id", n}, {"body", req.body()}});
        });
        app.patch("/items/:id", [this](Request& req, Response& res) {
            res.send("patched " + std::string(req.param("id")) + " #" + std::to_string(++calls));
        });
        for (auto method : {"GET", "PUT", "DELETE"})
            app.add_route(method, "/items", {}, [this](Request&, Response& res) { res.send(std::to_string(++calls)); });
    }
    mw::MemoryIdempotencyStoreOptions with_clock(mw::MemoryIdempotencyStoreOptions o) {
        o.now = [this] { return start + std::chrono::milliseconds(elapsed_ms.load()); };
        return o;
    }
    void advance(std::chrono::milliseconds d) { elapsed_ms += d.count(); }
};
}  // namespace

TEST_CASE("a retried POST gets the first answer replayed byte for byte and the handler runs once", "[middleware][idempotency]") {
    Fixture f;
    testing::Client c(f.app);
    auto first = c.post("/items", "{\"a\":1}", key("8e03978e-40d5-43e8-bc93-6894a57f9324", {{"Content-Type", "application/json"}}));
    REQUIRE(first.status == 201);
    CHECK(first.header("Idempotent-Replayed").empty());
    auto retry = c.post("/items", "{\"a\":1}", key("8e03978e-40d5-43e8-bc93-6894a57f9324", {{"Content-Type", "application/json"}}));
    CHECK(retry.status == 201);
    CHECK(retry.body == first.body);
    CHECK(retry.header("Idempotent-Replayed") == "true");
    CHECK(retry.header("Content-Type") == "application/json");
    CHECK(retry.header("Location") == "/items/1");
    CHECK(retry.header("ETag") == "\"v1\"");
    // Headers outside stored_headers are not replayed: a cookie set once is not set again.
    CHECK(retry.header("X-Not-Kept").empty());
    CHECK(retry.header("Set-Cookie").empty());
    CHECK(f.calls == 1);
    // The draft's form, an RFC 8941 string, names the same key.
    auto quoted = c.post("/items", "{\"a\":1}", key("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"", {{"Content-Type", "application/json"}}));
    CHECK(quoted.header("Idempotent-Replayed") == "true");
    CHECK(quoted.body == first.body);
    // PATCH too.
    auto patched = c.patch("/items/7", "x", key("p1"));
    CHECK(c.patch("/items/7", "x", key("p1")).body == patched.body);
    CHECK(f.calls == 2);
}

TEST_CASE("a replayed header replaces the value an outer middleware set, rather than doubling it", "[middleware][idempotency]") {
    // As spur-app's personal_data(): a default Cache-Control set before the chain, which the
    // handler overrides; a replay must answer what the first answer said, once.
    App app{AppOptions{.log = [](LogLevel, std::string_view) {}}};
    mw::MemoryIdempotencyStore store;
    mw::IdempotencyOptions o;
    o.stored_headers.push_back("Cache-Control");
    app.use([](Request&, Response& res, Next next) -> Task<> {
        res.set("Cache-Control", "private, no-store");
        co_await next();
    });
    app.use(mw::idempotency(store, o));
    app.post("/cached", [](Request&, Response& res) { res.set("Cache-Control", "private, max-age=60").send("ok"); });
    testing::Client c(app);
    REQUIRE(c.post("/cached", "x", key("cc")).header("Cache-Control") == "private, max-age=60");
    auto again = c.post("/cached", "x", key("cc"));
    CHECK(again.header("Idempotent-Replayed") == "true");
    std::vector<std::string> values;
    for (const auto& field : again.headers)
        if (boost::beast::iequals(field.name_string(), "Cache-Control")) values.emplace_back(field.value());
    CHECK(values == std::vector<std::string>{"private, max-age=60"});
}

TEST_CASE("other methods, and POSTs without the header, pass through untouched", "[middleware][idempotency]") {
    Fixture f;
    testing::Client c(f.app);
    for (auto method : {"GET", "PUT", "DELETE"}) {
        auto a = c.request(method, "/items", "", key("k"));
        auto b = c.request(method, "/items", "", key("k"));
        CHECK(a.body != b.body);  // ran twice
        CHECK(b.header("Idempotent-Replayed").empty());
    }
    CHECK(c.post("/items", "x").json().at("id") == 7);
    CHECK(c.post("/items", "x").json().at("id") == 8);
    CHECK(f.store.size() == 0);
}

TEST_CASE("required: a POST without the header answers 400 idempotency_key_required", "[middleware][idempotency]") {
    mw::IdempotencyOptions o;
    o.required = true;
    Fixture f(o);
    testing::Client c(f.app);
    auto r = c.post("/items", "x");
    CHECK(r.status == 400);
    CHECK(code(r) == "idempotency_key_required");
    CHECK(c.get("/items").status == 200);  // only POST and PATCH need it
    CHECK(c.post("/items", "x", key("k")).status == 201);
    CHECK(f.calls == 2);
}

TEST_CASE("malformed keys answer 400 invalid_idempotency_key, well-formed ones up to max_key_length pass", "[middleware][idempotency]") {
    mw::IdempotencyOptions o;
    o.max_key_length = 8;
    Fixture f(o);
    testing::Client c(f.app);
    for (std::string bad : {"", "123456789", "a b", "caf\xc3\xa9", "\"open", "\"a\"b", "\"bad\\escape\"", "\"\"", "\"tab\there\""}) {
        auto r = c.post("/items", "x", key(bad));
        INFO(bad);
        CHECK(r.status == 400);
        CHECK(code(r) == "invalid_idempotency_key");
    }
    auto twice = c.post("/items", "x", key("a", {{"Idempotency-Key", "b"}}));
    CHECK(twice.status == 400);
    CHECK(code(twice) == "invalid_idempotency_key");
    CHECK(f.calls == 0);
    for (std::string good : {"12345678", "\"a b\"", "\"q\\\"\\\\\"", "!~{}"}) {
        INFO(good);
        CHECK(c.post("/items", "x", key(good)).status == 201);
    }
    // "q\"\\" unquotes to q"\ : the same key sent bare is a replay.
    CHECK(c.post("/items", "x", key("q\"\\")).header("Idempotent-Replayed") == "true");
}

TEST_CASE("the same key for a different request answers 422 idempotency_key_reused", "[middleware][idempotency]") {
    Fixture f;
    f.app.post("/other", [](Request&, Response& res) { res.send("other"); });
    testing::Client c(f.app);
    REQUIRE(c.post("/items?x=1", "body", key("k", {{"Content-Type", "text/plain"}})).status == 201);
    const testing::Result differing[] = {
        c.post("/items?x=1", "another body", key("k", {{"Content-Type", "text/plain"}})),
        c.post("/items?x=2", "body", key("k", {{"Content-Type", "text/plain"}})),
        c.post("/items?x=1", "body", key("k", {{"Content-Type", "application/json"}})),
        c.post("/other?x=1", "body", key("k", {{"Content-Type", "text/plain"}})),
        c.patch("/items?x=1", "body", key("k", {{"Content-Type", "text/plain"}})),
    };
    for (const auto& r : differing) {
        CHECK(r.status == 422);
        CHECK(code(r) == "idempotency_key_reused");
    }
    CHECK(f.calls == 1);
}

TEST_CASE("a retry while the first request runs answers 409 in use, and once the lock passes it takes the key over",
          "[middleware][idempotency][concurrency]") {
    mw::IdempotencyOptions o;
    o.lock = 2s;
    Fixture f(o);
    test::Gate gate;
    f.app.post("/slow", [&](Request&, Response& res) -> Task<> {
        const int run = ++f.calls;
        if (run == 1) co_await gate.wait();  // the first run is held until the test lets it go
        res.status(201).json({{"run", run}});
    });
    testing::Client held_client(f.app), c(f.app);
    testing::Result first;
    std::thread holder([&] { first = held_client.post("/slow", "x", key("k")); });
    struct Join {  // a failed REQUIRE must not leave the thread running
        test::Gate& gate;
        std::thread& thread;
        ~Join() {
            gate.open();
            if (thread.joinable()) thread.join();
        }
    } join{gate, holder};
    REQUIRE(gate.wait_arrived());

    auto busy = c.post("/slow", "x", key("k"));
    CHECK(busy.status == 409);
    CHECK(code(busy) == "idempotency_key_in_use");
    CHECK(busy.header("Retry-After") == "1");

    f.advance(2001ms);  // the holder looks crashed now: a retry takes over and runs
    auto taken = c.post("/slow", "x", key("k"));
    CHECK(taken.status == 201);
    CHECK(taken.json().at("run") == 2);

    gate.open();
    holder.join();
    CHECK(first.status == 201);  // the first client still gets its own answer...
    CHECK(first.json().at("run") == 1);
    auto later = c.post("/slow", "x", key("k"));  // ...but the key keeps the answer of the run holding it
    CHECK(later.json().at("run") == 2);
    CHECK(later.header("Idempotent-Replayed") == "true");
    CHECK(f.calls == 2);
}

TEST_CASE("a failed request frees its key: a thrown error, a 5xx or a streamed answer run again on retry", "[middleware][idempotency]") {
    Fixture f;
    int throws = 0, fails = 0, streams = 0;
    f.app.post("/throws", [&](Request&, Response& res) {
        if (++throws == 1) throw HttpError(409, "conflict", "not yet");
        res.status(201).send("done");
    });
    f.app.post("/fails", [&](Request&, Response& res) { res.status(++fails == 1 ? 503 : 201).send("answer"); });
    f.app.post("/streams", [&](Request&, Response& res) {
        ++streams;
        res.stream([](BodyWriter& w) -> Task<> { co_await w.write("chunk"); });
    });
    testing::Client c(f.app);
    for (std::string path : {"/throws", "/fails"}) {
        INFO(path);
        auto failed = c.post(path, "x", key(path));
        CHECK(failed.status >= 409);
        auto again = c.post(path, "x", key(path));
        CHECK(again.status == 201);  // ran again
        CHECK(again.header("Idempotent-Replayed").empty());
        CHECK(c.post(path, "x", key(path)).header("Idempotent-Replayed") == "true");
    }
    CHECK(throws == 2);
    CHECK(fails == 2);
    CHECK(c.post("/streams", "x", key("s")).body == "chunk");
    CHECK(c.post("/streams", "x", key("s")).header("Idempotent-Replayed").empty());
    CHECK(streams == 2);
    CHECK(f.store.size() == 2);  // the two answered keys; the streamed one is free
}

TEST_CASE("an answer larger than max_stored_body is sent once, and a retry gets 409 idempotency_key_applied", "[middleware][idempotency]") {
    mw::IdempotencyOptions o;
    o.max_stored_body = 4;
    Fixture f(o);
    testing::Client c(f.app);
    auto first = c.patch("/items/1", "x", key("big"));
    CHECK(first.status == 200);
    auto retry = c.patch("/items/1", "x", key("big"));
    CHECK(retry.status == 409);
    CHECK(code(retry) == "idempotency_key_applied");
    CHECK(f.calls == 1);
    CHECK(f.store.bytes() == 0);
}

TEST_CASE("a key expires after ttl and can then be used afresh, for another request too", "[middleware][idempotency]") {
    mw::IdempotencyOptions o;
    o.ttl = 60s;
    Fixture f(o);
    testing::Client c(f.app);
    REQUIRE(c.post("/items", "one", key("k")).status == 201);
    f.advance(59s);
    CHECK(c.post("/items", "one", key("k")).header("Idempotent-Replayed") == "true");
    CHECK(c.post("/items", "two", key("k")).status == 422);
    f.advance(1s);
    auto fresh = c.post("/items", "two", key("k"));
    CHECK(fresh.status == 201);
    CHECK(fresh.header("Idempotent-Replayed").empty());
    CHECK(f.calls == 2);
    CHECK(f.store.size() == 1);
}

TEST_CASE("keys are scoped by principal: two principals with one key each run once", "[middleware][idempotency]") {
    Fixture f;
    testing::Client c(f.app);
    const testing::Headers alice{{"Authorization", "Bearer alice"}}, bob{{"X-API-Key", "bob"}};
    auto a = c.post("/items", "x", key("shared", alice));
    auto b = c.post("/items", "x", key("shared", bob));
    auto anonymous = c.post("/items", "x", key("shared"));
    CHECK(a.json().at("id") == 1);
    CHECK(b.json().at("id") == 2);
    CHECK(anonymous.json().at("id") == 3);
    CHECK(c.post("/items", "x", key("shared", alice)).json().at("id") == 1);
    CHECK(c.post("/items", "x", key("shared", bob)).json().at("id") == 2);
    CHECK(f.calls == 3);
}

TEST_CASE("a custom principal scopes keys, and an HttpError it throws is the answer", "[middleware][idempotency]") {
    mw::IdempotencyOptions o;
    o.principal = [](Request& req) -> Task<std::string> {
        if (!req.has_header("X-User")) throw HttpError(401, "unauthorized", "log in");
        co_return std::string(req.header("X-User"));
    };
    Fixture f(o);
    testing::Client c(f.app);
    CHECK(c.post("/items", "x", key("k")).status == 401);
    CHECK(c.post("/items", "x", key("k", {{"X-User", "1"}})).json().at("id") == 1);
    CHECK(c.post("/items", "x", key("k", {{"X-User", "2"}})).json().at("id") == 2);
    // The same user behind another token is the same principal.
    CHECK(c.post("/items", "x", key("k", {{"X-User", "1"}, {"Authorization", "Bearer other"}})).json().at("id") == 1);
}

TEST_CASE("the handler sees the body and the key it holds", "[middleware][idempotency]") {
    Fixture f;
    f.app.post("/echo", [](Request& req, Response& res) {
        const auto* held = mw::idempotency_claim(req);
        res.json({{"body", req.body()}, {"key", held ? held->key : "none"}, {"claimed", held && !held->claim.empty()}});
    });
    testing::Client c(f.app);
    auto r = c.post("/echo", "hello", key("\"k-1\""));
    CHECK(r.json() == boost::json::parse(R"({"body":"hello","key":"k-1","claimed":true})"));
    CHECK(c.post("/echo", "hello").json().at("key") == "none");
}

TEST_CASE("the memory store refuses new keys with 503 when full and never drops a live one early", "[middleware][idempotency]") {
    mw::IdempotencyOptions o;
    o.ttl = 100s;
    mw::MemoryIdempotencyStoreOptions so;
    so.max_keys = 2;
    so.max_bytes = 150;  // two answers of 71 bytes (body and kept headers)
    Fixture f(o, so);
    testing::Client c(f.app);
    CHECK(c.post("/items", "x", key("a")).status == 201);
    f.advance(40s);
    CHECK(c.post("/items", "x", key("b")).status == 201);
    auto full = c.post("/items", "x", key("c"));
    CHECK(full.status == 503);
    CHECK(code(full) == "idempotency_store_full");
    CHECK(full.header("Retry-After") == "60");  // until "a" expires
    CHECK(c.post("/items", "x", key("a")).header("Idempotent-Replayed") == "true");  // still kept
    f.advance(60s);
    CHECK(c.post("/items", "x", key("c")).status == 201);  // "a" expired and made room
    CHECK(f.store.size() == 2);
    CHECK(f.store.bytes() == 142);
    // An answer past max_bytes is not kept: the key counts as applied.
    CHECK(c.post("/items", std::string(200, 'y'), key("c")).status == 422);
    f.advance(100s);
    CHECK(c.post("/items", std::string(200, 'y'), key("big")).status == 201);
    CHECK(code(c.post("/items", std::string(200, 'y'), key("big"))) == "idempotency_key_applied");
}

TEST_CASE("one principal cannot take every key of the memory store: past max_keys_per_scope its new keys get 429", "[middleware][idempotency]") {
    // Without a share per principal, one client's flood of distinct keys filled max_keys and
    // every other client got 503 until the flood's keys expired (a day).
    mw::IdempotencyOptions o;
    o.ttl = 100s;
    mw::MemoryIdempotencyStoreOptions so;
    so.max_keys = 10;
    so.max_keys_per_scope = 3;
    Fixture f(o, so);
    testing::Client c(f.app);
    const testing::Headers mallory{{"Authorization", "Bearer mallory"}}, alice{{"Authorization", "Bearer alice"}};
    for (const char* k : {"m1", "m2", "m3"}) CHECK(c.post("/items", "x", key(k, mallory)).status == 201);
    auto refused = c.post("/items", "x", key("m4", mallory));
    CHECK(refused.status == 429);
    CHECK(code(refused) == "too_many_idempotency_keys");
    CHECK(refused.header("Retry-After") == "100");
    CHECK(f.calls == 3);
    // Its held keys still replay; another principal is unaffected.
    CHECK(c.post("/items", "x", key("m1", mallory)).header("Idempotent-Replayed") == "true");
    CHECK(c.post("/items", "x", key("a1", alice)).status == 201);
    // Once its keys expire, the principal has its share again.
    f.advance(101s);
    CHECK(c.post("/items", "x", key("m4", mallory)).status == 201);
    CHECK(f.store.size() <= 5);
    mw::MemoryIdempotencyStoreOptions none;
    none.max_keys_per_scope = 0;
    CHECK_THROWS_AS(mw::MemoryIdempotencyStore(none), std::invalid_argument);
}

TEST_CASE("idempotency() refuses options it cannot honour", "[middleware][idempotency]") {
    mw::MemoryIdempotencyStore store;
    mw::IdempotencyOptions o;
    o.ttl = 10s;
    o.lock = 10s;
    CHECK_THROWS_AS(mw::idempotency(store, o), std::invalid_argument);
    o = {};
    o.header = "Bad Header";
    CHECK_THROWS_AS(mw::idempotency(store, o), std::invalid_argument);
    o = {};
    o.max_key_length = 0;
    CHECK_THROWS_AS(mw::idempotency(store, o), std::invalid_argument);
    mw::MemoryIdempotencyStoreOptions none;
    none.max_keys = 0;
    CHECK_THROWS_AS(mw::MemoryIdempotencyStore(none), std::invalid_argument);
}
