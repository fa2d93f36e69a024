#include "harness.hpp"

#include "db_session.hpp"

#include "support/run_until.hpp"

#include "health/admin_listener.hpp"

#include <spur/random.hpp>
#include <spur/serving.hpp>
#include <spur/jwt.hpp>

#include <catch2/catch.hpp>

#include <openssl/sha.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

using namespace app::test;
using boost::beast::http::verb;
namespace json = boost::json;

namespace {
Reply del(Running& app, const std::string& t, const Headers& h) { return call(app, verb::delete_, t, {}, h); }
std::string id_of(const Reply& r, const char* what) { return std::to_string(r.json().at(what).at("id").to_number<std::uint64_t>()); }
}  // namespace

TEST_CASE("API keys: the secret is shown once, stored hashed, listed without secrets, deleted by owner only", "[app][keys]") {
    Running app;
    auto alice = signup(app, unique_email("alice"));
    auto bob = signup(app, unique_email("bob"));
    auto created = post(app, "/api/keys", {{"name", "laptop"}, {"password", "password123"}}, bearer(alice));
    REQUIRE(created.status == 201);
    CHECK(created.header("Cache-Control") == "private, no-store");
    auto v = created.json();
    std::string secret(v.at("secret").as_string());
    CHECK(secret.rfind("sk_", 0) == 0);
    CHECK(v.at("key").at("prefix") == json::value(secret.substr(0, 11)));
    CHECK(v.at("key").at("last_used_at").is_null());

    auto list = get(app, "/api/keys", bearer(alice));
    CHECK(list.status == 200);
    CHECK(list.json().at("items").as_array().size() == 1);
    CHECK(list.body.find(secret) == std::string::npos);
    CHECK(get(app, "/api/keys", bearer(bob)).json().at("items").as_array().empty());

    // Stored as SHA-256 only.
    boost::asio::io_context io;
    auto stored = spur::test::test_db_row(io, "SELECT key_hash FROM api_keys WHERE prefix = ?", secret.substr(0, 11));
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
    CHECK(stored == std::string(reinterpret_cast<char*>(digest), sizeof digest));

    auto id = id_of(created, "key");
    CHECK(del(app, "/api/keys/" + id, bearer(bob)).status == 404);
    CHECK(del(app, "/api/keys/" + id, bearer(alice)).status == 204);
    CHECK(del(app, "/api/keys/" + id, bearer(alice)).status == 404);
    CHECK(post(app, "/api/keys", {{"name", ""}, {"password", "password123"}}, bearer(alice)).status == 400);
    CHECK(get(app, "/api/keys").status == 401);
}

TEST_CASE("X-API-Key authenticates the text endpoints as its owner until it is revoked", "[app][keys]") {
    Running app;
    auto token = signup(app, unique_email("keyuser"));
    auto created = post(app, "/api/keys", {{"name", "script"}, {"password", "password123"}}, bearer(token));
    std::string secret(created.json().at("secret").as_string());
    const Headers key = {{"X-API-Key", secret}};
    auto text = post(app, "/api/texts", {{"title", "via key"}, {"content", "hello"}}, key);
    CHECK(text.status == 201);
    CHECK(get(app, "/api/texts/" + id_of(text, "text"), bearer(token)).status == 200);  // same owner
    auto keys = get(app, "/api/keys", bearer(token)).json();
    CHECK(keys.at("items").at(0).at("last_used_at").is_string());
    CHECK(get(app, "/api/keys", key).status == 401);  // keys only manage texts
    del(app, "/api/keys/" + id_of(created, "key"), bearer(token));
    CHECK(get(app, "/api/texts", key).status == 401);
    CHECK(get(app, "/api/texts", {{"X-API-Key", "sk_made_up"}}).status == 401);
}

TEST_CASE("API keys expire: expires_in_days on creation (1 to 365, 90 without) - an expired key gets 401", "[app][keys]") {
    Running app;
    auto h = bearer(signup(app, unique_email("expiring")));
    auto key = [](const std::string& name, const json::value& days) {
        return json::object{{"name", name}, {"password", "password123"}, {"expires_in_days", days}};
    };
    for (const json::value& bad : {json::value(0), json::value(366), json::value("7"), json::value(1.5)})
        CHECK(post(app, "/api/keys", key("k", bad), h).status == 400);
    auto standard = post(app, "/api/keys", key("standard", nullptr), h);
    CHECK(standard.json().at("key").at("expires_at").is_string());  // 90 days (hardening_test)
    auto created = post(app, "/api/keys", key("a week", 7), h);
    REQUIRE(created.status == 201);
    CHECK(created.json().at("key").at("expires_at").is_string());
    const std::string secret(created.json().at("secret").as_string());
    CHECK(get(app, "/api/texts", {{"X-API-Key", secret}}).status == 200);
    boost::asio::io_context io;  // a week later
    spur::test::test_db_row(io, "UPDATE api_keys SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE prefix = ?",
                            secret.substr(0, 11));
    auto expired = get(app, "/api/texts", {{"X-API-Key", secret}});
    CHECK(expired.status == 401);
    CHECK(get(app, "/api/texts", {{"X-API-Key", std::string(standard.json().at("secret").as_string())}}).status == 200);
}

TEST_CASE("texts: create, read, partial update, delete, with validation", "[app][texts]") {
    Running app;
    auto token = signup(app, unique_email("writer"));
    auto h = bearer(token);
    const std::string nasty = "'); DROP TABLE texts; -- 🌍";
    auto created = post(app, "/api/texts", {{"title", nasty}, {"content", "line1\nline2 \"q\""}}, h);
    REQUIRE(created.status == 201);
    auto t = created.json().at("text");
    CHECK(t.at("title") == json::value(nasty));
    CHECK(t.at("created_at") == t.at("updated_at"));
    auto id = id_of(created, "text");

    auto shown = get(app, "/api/texts/" + id, h);
    CHECK(shown.json().at("text").at("content") == "line1\nline2 \"q\"");
    auto updated = put(app, "/api/texts/" + id, {{"content", "changed"}}, h);
    CHECK(updated.status == 200);
    CHECK(updated.json().at("text").at("title") == json::value(nasty));  // untouched
    CHECK(updated.json().at("text").at("content") == "changed");
    CHECK(put(app, "/api/texts/" + id, json::object{}, h).status == 400);
    CHECK(del(app, "/api/texts/" + id, h).status == 204);
    CHECK(get(app, "/api/texts/" + id, h).status == 404);
    CHECK(get(app, "/api/texts/not-a-number", h).json().at("error").at("code") == "not_found");

    std::string emoji_255;
    for (int i = 0; i < 255; ++i) emoji_255 += "😀";
    CHECK(post(app, "/api/texts", {{"title", emoji_255}, {"content", ""}}, h).status == 201);
    CHECK(post(app, "/api/texts", {{"title", emoji_255 + "x"}, {"content", ""}}, h).status == 400);
    CHECK(post(app, "/api/texts", {{"title", ""}, {"content", "x"}}, h).status == 400);
    CHECK(post(app, "/api/texts", {{"title", "t"}}, h).status == 400);
    CHECK(post(app, "/api/texts", {{"title", "t"}, {"content", std::string(1024 * 1024, 'c')}}, h).status == 201);
    auto big = post(app, "/api/texts", {{"title", "t"}, {"content", std::string(1024 * 1024 + 1, 'c')}}, h);
    CHECK(big.status == 413);
    CHECK(big.json().at("error").at("code") == "payload_too_large");
}

TEST_CASE("texts carry a version - ETag, If-None-Match answers 304, a stale If-Match is 412 and writes nothing", "[app][texts][conditional]") {
    Running app;
    auto h = bearer(signup(app, unique_email("editor")));
    auto created = post(app, "/api/texts", {{"title", "draft"}, {"content", "v1"}}, h);
    REQUIRE(created.status == 201);
    CHECK(created.header("ETag") == "\"1\"");
    CHECK(created.json().at("text").at("version") == 1);
    const auto id = id_of(created, "text");
    const auto url = "/api/texts/" + id;

    auto read = get(app, url, h);
    CHECK(read.header("ETag") == "\"1\"");
    auto with = [&](Headers extra) {
        extra.insert(extra.end(), h.begin(), h.end());
        return extra;
    };
    auto cached = get(app, url, with({{"If-None-Match", "\"1\""}}));
    CHECK(cached.status == 304);
    CHECK(cached.body.empty());
    CHECK(get(app, url, with({{"If-None-Match", "\"7\""}})).status == 200);

    // Editor A saves on top of version 1; editor B, who also read version 1, is refused.
    auto a = put(app, url, {{"content", "A's edit"}}, with({{"If-Match", "\"1\""}}));
    CHECK(a.status == 200);
    CHECK(a.header("ETag") == "\"2\"");
    CHECK(a.json().at("text").at("version") == 2);
    auto b = put(app, url, {{"content", "B's edit"}}, with({{"If-Match", "\"1\""}}));
    CHECK(b.status == 412);
    CHECK(b.json().at("error").at("code") == "precondition_failed");
    CHECK(b.header("ETag") == "\"2\"");  // what B must fetch again
    CHECK(get(app, url, h).json().at("text").at("content") == "A's edit");
    CHECK(put(app, url, {{"title", "renamed"}}, with({{"If-Match", "\"9\", \"2\""}})).status == 200);
    CHECK(get(app, url, h).json().at("text").at("version") == 3);

    // Without If-Match the last write wins, as before; a title-only change bumps the version too.
    CHECK(put(app, url, {{"content", std::string(4000, 'x')}}, h).json().at("text").at("version") == 4);
    CHECK(put(app, url, {{"title", "t"}}, h).json().at("text").at("version") == 5);
    // A compressed answer carries the tag weakened; it still names the version.
    auto compressed = get(app, url, with({{"Accept-Encoding", "gzip"}}));
    CHECK(compressed.header("Content-Encoding") == "gzip");
    CHECK(compressed.header("ETag") == "W/\"5\"");
    CHECK(put(app, url, {{"title", "t2"}}, with({{"If-Match", std::string(compressed.header("ETag"))}})).status == 200);

    CHECK(del(app, url, with({{"If-Match", "\"4\""}})).status == 412);  // it is at 6 now
    CHECK(get(app, url, h).status == 200);  // still there
    CHECK(del(app, url, with({{"If-Match", "*"}})).status == 204);
    CHECK(del(app, url, with({{"If-Match", "*"}})).status == 404);
}

TEST_CASE("two editors saving the same version at once - exactly one wins, the other gets 412", "[app][texts][conditional]") {
    Running app(test_config(), true, Via::wire);
    auto h = bearer(signup(app, unique_email("pair")));
    auto created = post(app, "/api/texts", {{"title", "shared"}, {"content", "v1"}}, h);
    const auto url = "/api/texts/" + id_of(created, "text");
    for (int round = 0; round < 5; ++round) {
        const std::string version(get(app, url, h).header("ETag"));
        std::atomic<int> saved{0}, refused{0};
        std::vector<std::thread> editors;
        for (int i = 0; i < 2; ++i)
            editors.emplace_back([&, i] {
                Headers headers = h;
                headers.emplace_back("If-Match", version);
                auto r = put(app, url, {{"content", "editor " + std::to_string(i)}}, headers);
                if (r.status == 200) ++saved;
                if (r.status == 412) ++refused;
            });
        for (auto& t : editors) t.join();
        CHECK(saved == 1);
        CHECK(refused == 1);
    }
}

TEST_CASE("texts are private: another user gets 404 for every operation", "[app][texts]") {
    Running app;
    auto owner = bearer(signup(app, unique_email("owner")));
    auto other = bearer(signup(app, unique_email("other")));
    auto id = id_of(post(app, "/api/texts", {{"title", "mine"}, {"content", "secret"}}, owner), "text");
    CHECK(get(app, "/api/texts/" + id, other).status == 404);
    CHECK(put(app, "/api/texts/" + id, {{"title", "stolen"}}, other).status == 404);
    CHECK(del(app, "/api/texts/" + id, other).status == 404);
    CHECK(get(app, "/api/texts", other).json().at("total") == 0);
    CHECK(get(app, "/api/texts/" + id, owner).json().at("text").at("title") == "mine");
}

// GET /api/texts/:id reads the token's state in the text's own statement (auth::PendingAuth):
// revocation must still take effect on the very next request, and come before a 404.
TEST_CASE("reading a text refuses a token at once after logout, logout-all or account deletion - 401 before 404", "[app][texts][auth]") {
    Running app;
    auto email = unique_email("revoked-reader");
    auto token = signup(app, email);
    auto text = post(app, "/api/texts", {{"title", "mine"}, {"content", "secret words"}}, bearer(token));
    REQUIRE(text.status == 201);
    const std::string path = "/api/texts/" + id_of(text, "text");
    auto read = get(app, path, bearer(token));
    CHECK(read.status == 200);
    CHECK(read.json().at("text").at("content") == "secret words");
    CHECK(get(app, "/api/texts/999999999", bearer(token)).status == 404);

    CHECK(call(app, verb::post, "/api/auth/logout", {}, bearer(token)).status == 204);
    auto refused = get(app, path, bearer(token));
    CHECK(refused.status == 401);
    CHECK(refused.header("WWW-Authenticate") == "Bearer");
    CHECK(refused.body.find("secret words") == std::string::npos);
    CHECK(get(app, "/api/texts/999999999", bearer(token)).status == 401);

    auto login = [&] { return std::string(post(app, "/api/auth/login", {{"email", email}, {"password", "password123"}}).json().at("token").as_string()); };
    auto second = login();
    CHECK(get(app, path, bearer(second)).status == 200);
    CHECK(call(app, verb::post, "/api/auth/logout-all", {}, bearer(second)).status == 204);
    CHECK(get(app, path, bearer(second)).status == 401);

    auto third = login();
    CHECK(get(app, path, bearer(third)).status == 200);
    CHECK(call(app, verb::delete_, "/api/auth/me", json::serialize(json::object{{"password", "password123"}}), bearer(third)).status == 204);
    CHECK(get(app, path, bearer(third)).status == 401);
}

TEST_CASE("listing: newest first, limit and offset, total, literal search", "[app][texts]") {
    Running app;
    auto h = bearer(signup(app, unique_email("lister")));
    for (int i = 0; i < 5; ++i)
        post(app, "/api/texts", {{"title", "note " + std::to_string(i)}, {"content", i == 3 ? "100% sure_x" : "plain"}}, h);
    auto page = get(app, "/api/texts?limit=2&offset=1", h).json();
    CHECK(page.at("total") == 5);
    CHECK(page.at("limit") == 2);
    CHECK(page.at("offset") == 1);
    REQUIRE(page.at("items").as_array().size() == 2);
    CHECK(page.at("items").at(0).at("title") == "note 3");
    CHECK(page.at("items").at(1).at("title") == "note 2");
    CHECK(get(app, "/api/texts", h).json().at("limit") == 20);
    CHECK(get(app, "/api/texts?limit=1000", h).json().at("limit") == 100);
    CHECK(get(app, "/api/texts?limit=abc", h).status == 400);
    CHECK(get(app, "/api/texts?limit=0", h).status == 400);
    auto pct = get(app, "/api/texts?q=100%25", h).json();  // '%' is literal, not a wildcard
    CHECK(pct.at("items").as_array().size() == 1);
    CHECK(get(app, "/api/texts?q=e_x", h).json().at("items").as_array().size() == 1);  // '_' too: matches "sure_x" only
    CHECK(get(app, "/api/texts?q=note%204", h).json().at("items").at(0).at("title") == "note 4");
}

TEST_CASE("the list answers summaries - size and a 200-character excerpt - and GET by id the full content", "[app][texts]") {
    Running app;
    auto h = bearer(signup(app, unique_email("summaries")));
    std::string content;
    for (int i = 0; i < 300; ++i) content += "é";  // 2 bytes each: the excerpt counts characters
    auto id = id_of(post(app, "/api/texts", {{"title", "long"}, {"content", content}}, h), "text");
    auto item = get(app, "/api/texts", h).json().at("items").at(0);
    CHECK(item.at("id").to_number<std::uint64_t>() == std::stoull(id));
    CHECK(item.at("size") == 600);
    CHECK(item.at("excerpt").as_string().size() == 400);  // 200 characters of 2 bytes
    CHECK_FALSE(item.as_object().contains("content"));
    auto full = get(app, "/api/texts/" + id, h).json().at("text");
    CHECK(full.at("content").as_string().size() == 600);
    CHECK(full.at("size") == 600);
    // An update keeps the summary in step with the content.
    REQUIRE(put(app, "/api/texts/" + id, {{"content", "short"}}, h).status == 200);
    item = get(app, "/api/texts", h).json().at("items").at(0);
    CHECK(item.at("size") == 5);
    CHECK(item.at("excerpt") == "short");
}

TEST_CASE("per-user quotas: a number of texts and of bytes - 403 quota_exceeded, nothing written", "[app][texts]") {
    auto config = test_config();
    config.max_texts_per_user = 3;
    config.max_text_bytes_per_user = 100;
    Running app(config);
    auto h = bearer(signup(app, unique_email("quota")));
    auto other = bearer(signup(app, unique_email("quota-other")));
    const std::string forty(40, 'x');
    auto first = id_of(post(app, "/api/texts", {{"title", "1"}, {"content", forty}}, h), "text");
    REQUIRE(post(app, "/api/texts", {{"title", "2"}, {"content", forty}}, h).status == 201);
    auto over_bytes = post(app, "/api/texts", {{"title", "3"}, {"content", forty}}, h);  // 120 > 100
    CHECK(over_bytes.status == 403);
    CHECK(over_bytes.json().at("error").at("code") == "quota_exceeded");
    REQUIRE(post(app, "/api/texts", {{"title", "3"}, {"content", "small"}}, h).status == 201);
    auto over_count = post(app, "/api/texts", {{"title", "4"}, {"content", ""}}, h);
    CHECK(over_count.status == 403);
    CHECK(over_count.json().at("error").at("code") == "quota_exceeded");
    CHECK(get(app, "/api/texts", h).json().at("total") == 3);
    // Growing a text counts too; shrinking one frees room.
    CHECK(put(app, "/api/texts/" + first, {{"content", std::string(60, 'y')}}, h).status == 403);
    CHECK(get(app, "/api/texts/" + first, h).json().at("text").at("content") == json::value(forty));  // unchanged
    CHECK(put(app, "/api/texts/" + first, {{"content", "z"}}, h).status == 200);
    CHECK(put(app, "/api/texts/" + first, {{"title", "renamed"}}, h).status == 200);
    // Quotas are per user.
    CHECK(post(app, "/api/texts", {{"title", "mine"}, {"content", forty}}, other).status == 201);
}

TEST_CASE("concurrent writes cannot pass the quota together", "[app][texts]") {
    auto config = test_config();
    config.max_texts_per_user = 5;
    Running app(config, true, Via::wire);
    auto h = bearer(signup(app, unique_email("racer")));
    std::atomic<int> created{0};
    std::vector<std::thread> writers;
    for (int i = 0; i < 12; ++i)
        writers.emplace_back([&, i] {
            if (post(app, "/api/texts", {{"title", std::to_string(i)}, {"content", "x"}}, h).status == 201) ++created;
        });
    for (auto& t : writers) t.join();
    CHECK(created == 5);
    CHECK(get(app, "/api/texts", h).json().at("total") == 5);
}

TEST_CASE("search: q is at most 100 characters - a worst-case search of megabytes answers - one the database stops is 503 query_timeout", "[app][texts]") {
    Running app;
    auto h = bearer(signup(app, unique_email("searcher")));
    CHECK(get(app, "/api/texts?q=" + std::string(100, 'x'), h).status == 200);
    auto too_long = get(app, "/api/texts?q=" + std::string(101, 'x'), h);
    CHECK(too_long.status == 400);
    CHECK(too_long.json().at("error").at("code") == "validation_error");
    CHECK(get(app, "/api/texts?q=", h).status == 200);  // empty: no filter

    // The worst case for a substring scan: a long run of one letter and a pattern that almost
    // matches everywhere. It took ≈1 s per MiB under the column's collation, and was stopped
    // at max_statement_time (503); a bounded binary scan answers.
    const std::string run(1000 * 1000, 'a');
    for (int i = 0; i < 6; ++i) REQUIRE(post(app, "/api/texts", {{"title", "big"}, {"content", run}}, h).status == 201);
    const std::string worst = "/api/texts?q=" + std::string(99, 'a') + "b";
    CHECK(get(app, worst, h).status == 200);

    // A statement the server stops (here: one held behind a lock past max_statement_time)
    // answers 503 query_timeout, and the pool is fine after.
    auto config = test_config();
    config.database_url += "&max_statement_time_ms=200";
    Running strict(config, false);
    // Prepared on the pool's one connection first: the server's time limit covers executing
    // a statement, not preparing it (a PREPARE waiting for the lock is not stopped).
    REQUIRE(get(strict, worst, h).status == 200);
    std::optional<Reply> stopped;
    {
        TableHold hold("texts");
        stopped = get(strict, worst, h);
    }
    CHECK(stopped->status == 503);
    CHECK(stopped->json().at("error").at("code") == "query_timeout");
    CHECK(get(strict, "/api/texts?limit=1", h).status == 200);
}

TEST_CASE("health, readiness and metrics", "[app][health]") {
    Running app;
    CHECK(get(app, "/healthz").json().at("status") == "ok");
    CHECK(get(app, "/readyz").status == 200);
    get(app, "/api/texts");  // a 401 to count
    auto m = get(app, "/metrics");
    CHECK(m.status == 200);
    CHECK(m.body.find("http_requests_total{method=\"GET\",route=\"/api/texts\",status=\"401\"} 1") != std::string::npos);
    CHECK(m.body.find("http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}") != std::string::npos);
    CHECK(m.body.find("db_pool_connections{state=\"idle\"}") != std::string::npos);
}

TEST_CASE("metrics are not public by default - METRICS_LISTEN serves them on an admin listener", "[app][health]") {
    auto config = test_config();
    config.public_metrics = false;
    Running app(config, true, Via::wire);
    CHECK(get(app, "/metrics").status == 404);
    CHECK(get(app, "/healthz").status == 200);  // probes still reach the public port
    app::health::AdminListener admin(app.services(), app.app(), "127.0.0.1", 0);
    get(app, "/api/texts");  // a 401 on the public port, to count
    // Counted by a finish hook, which runs once the answer is written: the client may read the
    // answer first.
    const std::string counted = "http_requests_total{method=\"GET\",route=\"/api/texts\",status=\"401\"} 1";
    CHECK(spur::test::eventually([&] { return call(admin.port(), verb::get, "/metrics").body.find(counted) != std::string::npos; }));
    auto m = call(admin.port(), verb::get, "/metrics");
    CHECK(m.status == 200);
    CHECK(m.header("Content-Type").starts_with("text/plain"));
    CHECK(call(admin.port(), verb::get, "/readyz").status == 200);
    CHECK(call(admin.port(), verb::get, "/healthz").status == 200);
    CHECK(call(admin.port(), verb::get, "/api/texts").status == 404);  // only the admin routes
    // The admin listener's readiness follows the public app: a drain there is a 503 here.
    spur::Serving(app.app()).drain();
    auto draining = call(admin.port(), verb::get, "/readyz");
    CHECK(draining.status == 503);
    CHECK(draining.body == R"({"status":"draining"})");
    CHECK(get(app, "/readyz").status == 503);
    CHECK(get(app, "/healthz").status == 200);
}

TEST_CASE("expired token revocations are purged by a periodic task, live ones are kept", "[app][health]") {
    auto config = test_config();
    config.token_purge_interval = std::chrono::seconds(1);
    Running app(config);
    const std::string tag = "purge-" + spur::random_token(6);
    auto sql = [](const std::string& statement, const std::string& arg) {
        boost::asio::io_context io;
        return spur::test::test_db_row(io, statement, arg);
    };
    sql("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR)", tag + "-expired");
    sql("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR)", tag + "-live");
    auto count = [&](const std::string& jti) {
        return std::stoi(sql("SELECT CAST(COUNT(*) AS CHAR) FROM revoked_tokens WHERE jti = ?", jti));
    };
    REQUIRE(count(tag + "-expired") == 1);
    boost::asio::io_context io;
    spur::Serving(app.app()).start(io.get_executor());
    // Until the task has deleted the expired row (each look is a query of its own).
    CHECK(spur::test::run_until(io, [&] { return count(tag + "-expired") == 0; }, std::chrono::seconds(10)));
    bool stopped = false;
    spur::Serving(app.app()).stop([&] { stopped = true; });
    CHECK(spur::test::run_until(io, [&] { return stopped; }));
    CHECK(count(tag + "-live") == 1);
}

TEST_CASE("wire refusals - 413, 431 and a malformed request - show in the access log and /metrics", "[app][health]") {
    auto config = test_config();
    config.log_format = "json";
    auto lines = std::make_shared<std::vector<std::string>>();
    auto mutex = std::make_shared<std::mutex>();
    config.access_log_sink = [lines, mutex](std::string_view line) {
        std::lock_guard lock(*mutex);
        lines->emplace_back(line);
    };
    Running app(config, true, Via::wire);  // the wire is the subject
    // 413: a registration far over the route's body limit, refused before it is read.
    auto too_big = spur::test::round_trip(
        app.port(), "POST /api/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n");
    REQUIRE(too_big);
    CHECK(too_big->result_int() == 413);
    // 431: a header block over the server's limit.
    auto huge_header = spur::test::round_trip(
        app.port(), "GET /api/texts HTTP/1.1\r\nHost: t\r\nX-Filler: " + std::string(20000, 'x') + "\r\n\r\n");
    REQUIRE(huge_header);
    CHECK(huge_header->result_int() == 431);
    // 400: a request line that cannot be read at all.
    auto garbage = spur::test::round_trip(app.port(), "\x01\x02 nonsense\n\n");
    REQUIRE(garbage);
    CHECK(garbage->result_int() == 400);

    auto logged = [&](const std::string& needle) {
        return spur::test::eventually([&] {
            std::lock_guard lock(*mutex);
            for (const auto& l : *lines)
                if (l.find(needle) != std::string::npos) return true;
            return false;
        });
    };
    CHECK(logged(R"("method":"POST","path":"/api/auth/register","status":413)"));
    CHECK(logged(R"("method":"GET","path":"/api/texts","status":431)"));
    CHECK(logged(R"("method":"-","path":"-","status":400)"));

    auto m = get(app, "/metrics").body;  // over the wire too: Via::wire
    CHECK(m.find("http_requests_total{method=\"POST\",route=\"/api/auth/register\",status=\"413\"} 1") != std::string::npos);
    CHECK(m.find("status=\"431\"} 1") != std::string::npos);
    CHECK(m.find("status=\"400\"} 1") != std::string::npos);
}

TEST_CASE("MAX_CONNECTIONS_PER_IP refuses a client's extra connections and /metrics counts them", "[app][health][caps]") {
    auto config = test_config();
    config.max_connections_per_ip = 2;
    Running app(config, true, Via::wire);
    spur::test::RawConnection first(app.port()), second(app.port());
    first.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    second.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(first.read_response());
    REQUIRE(second.read_response());
    spur::test::RawConnection third(app.port(), std::chrono::milliseconds(2000));
    CHECK(third.wait_closed());
    // Unknown method tokens share one label, so they cannot grow the series without bound.
    spur::test::RawConnection other(app.port(), std::chrono::milliseconds(5000), "127.0.0.2");
    other.send("BREW /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(other.read_response());
    other.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
    auto m = other.read_response();
    REQUIRE(m);
    CHECK(m->body().find("http_connections_refused_total 1\n") != std::string::npos);
    CHECK(m->body().find("http_connections_open 3\n") != std::string::npos);
    CHECK(m->body().find("method=\"OTHER\"") != std::string::npos);
    CHECK(m->body().find("BREW") == std::string::npos);
}

TEST_CASE("without a database: healthz stays 200 - readyz and data routes answer 503", "[app][health]") {
    auto config = test_config();
    config.database_url = "mysql://spur:spur@localhost/spur_test?socket=/nonexistent/mysqld.sock"
                          "&connect_timeout_ms=500&acquire_timeout_ms=500";
    Running app(config, false);
    auto token = spur::Jwt(test_secret).sign({{"sub", "1"}, {"exp", 4'000'000'000LL}, {"jti", "no-db"}});
    CHECK(get(app, "/healthz").status == 200);
    auto ready = get(app, "/readyz");
    CHECK(ready.status == 503);
    CHECK(ready.json().at("status") == "unavailable");
    auto data = get(app, "/api/texts", bearer(token));
    CHECK(data.status == 503);
    CHECK(data.json().at("error").at("code") == "service_unavailable");
}

TEST_CASE("data and tokens survive an app restart", "[app][restart]") {
    std::string token, id;
    {
        Running first;
        token = signup(first, unique_email("restart"));
        id = id_of(post(first, "/api/texts", {{"title", "kept"}, {"content", "across restarts"}}, bearer(token)), "text");
    }
    Running second;
    auto r = get(second, "/api/texts/" + id, bearer(token));
    CHECK(r.status == 200);
    CHECK(r.json().at("text").at("content") == "across restarts");
}
