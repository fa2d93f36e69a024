#include "idempotency.hpp"

#include "harness.hpp"

#include <spur/openapi/openapi.hpp>
#include <spur/random.hpp>

#include <catch2/catch.hpp>

using namespace app::test;

namespace {

Headers with_key(Headers h, const std::string& key) {
    h.push_back({"Idempotency-Key", key});
    return h;
}

std::size_t texts_titled(Running& app, const std::string& token, const std::string& title) {
    auto r = get(app, "/api/texts?limit=100&q=" + title, bearer(token));
    REQUIRE(r.status == 200);
    std::size_t n = 0;
    const auto page = r.json();
    for (const auto& item : page.at("items").as_array()) n += item.at("title").as_string() == title;
    return n;
}

}  // namespace

TEST_CASE("spur-app: a text posted twice with one Idempotency-Key is written once and its answer replayed", "[app][idempotency]") {
    Running app;
    const auto token = signup(app, unique_email("idem-text"));
    const auto key = spur::random_uuid();
    const boost::json::value body = {{"title", "idem-" + key.substr(0, 8)}, {"content", "once"}};

    auto first = post(app, "/api/texts", body, with_key(bearer(token), key));
    REQUIRE(first.status == 201);
    CHECK(first.header("Idempotent-Replayed").empty());
    auto again = post(app, "/api/texts", body, with_key(bearer(token), key));
    REQUIRE(again.status == 201);
    CHECK(again.header("Idempotent-Replayed") == "true");
    CHECK(again.body == first.body);
    CHECK(again.header("ETag") == first.header("ETag"));
    CHECK(texts_titled(app, token, std::string(body.at("title").as_string())) == 1);

    // The same key for another text is a client's mistake, not a retry.
    auto other = post(app, "/api/texts", {{"title", "something else"}, {"content", "x"}}, with_key(bearer(token), key));
    CHECK(other.status == 422);
    CHECK(other.json().at("error").at("code") == "idempotency_key_reused");
}

TEST_CASE("spur-app: Idempotency-Keys belong to an account, and a caller that is not signed in takes none", "[app][idempotency]") {
    Running app;
    const auto alice = signup(app, unique_email("idem-alice"));
    const auto bob = signup(app, unique_email("idem-bob"));
    const auto key = spur::random_uuid();
    const boost::json::value body = {{"title", "shared-" + key.substr(0, 8)}, {"content", "same body"}};

    auto a = post(app, "/api/texts", body, with_key(bearer(alice), key));
    auto b = post(app, "/api/texts", body, with_key(bearer(bob), key));
    REQUIRE(a.status == 201);
    REQUIRE(b.status == 201);
    CHECK(b.header("Idempotent-Replayed").empty());  // Bob's write ran: Alice's answer is not his
    CHECK(a.json().at("text").at("id") != b.json().at("text").at("id"));

    auto nobody = post(app, "/api/texts", body, with_key({}, key));
    CHECK(nobody.status == 401);
    auto still = post(app, "/api/texts", body, with_key(bearer(alice), key));
    CHECK(still.header("Idempotent-Replayed") == "true");  // the refused caller changed nothing
}

TEST_CASE("spur-app: a registration retried with its key creates one account, and keys are documented", "[app][idempotency]") {
    Running app;
    const auto email = unique_email("idem-register");
    const auto key = spur::random_uuid();
    const boost::json::value body = {{"email", email}, {"password", "password123"}};
    auto first = post(app, "/api/auth/register", body, with_key({}, key));
    REQUIRE(first.status == 201);
    auto again = post(app, "/api/auth/register", body, with_key({}, key));
    REQUIRE(again.status == 201);  // not 409 email_taken: the retry learns its own outcome
    CHECK(again.header("Idempotent-Replayed") == "true");
    CHECK(again.body == first.body);
    boost::asio::io_context io;
    CHECK(spur::test::test_db_row(io, "SELECT CAST(COUNT(*) AS CHAR) FROM users WHERE email = ?", email) == "1");
    // Without a key the same request is a second registration, refused as before.
    CHECK(post(app, "/api/auth/register", body).status == 409);

    const auto doc = spur::openapi_document(app.app());
    for (const auto& [path, method] : {std::pair{"/api/texts", "post"}, {"/api/keys", "post"}, {"/api/auth/register", "post"},
                                       {"/api/auth/password", "post"}, {"/api/auth/password-reset/confirm", "post"}}) {
        INFO(method << " " << path);
        const auto& op = doc.at("paths").at(path).at(method).as_object();
        bool documented = false;
        for (const auto& p : op.at("parameters").as_array())
            documented = documented || (p.at("name") == "Idempotency-Key" && p.at("in") == "header" && p.at("required") == false);
        CHECK(documented);
        CHECK(op.at("responses").as_object().contains("422"));
    }
}

TEST_CASE("spur-app: an answer with a secret is never kept: a retried API key creation is 409 idempotency_key_applied", "[app][idempotency]") {
    Running app;
    const auto token = signup(app, unique_email("idem-key"));
    const auto key = spur::random_uuid();
    const boost::json::value body = {{"name", "ci"}, {"password", "password123"}};
    auto first = post(app, "/api/keys", body, with_key(bearer(token), key));
    REQUIRE(first.status == 201);
    const std::string secret(first.json().at("secret").as_string());
    auto again = post(app, "/api/keys", body, with_key(bearer(token), key));
    CHECK(again.status == 409);
    CHECK(again.json().at("error").at("code") == "idempotency_key_applied");
    CHECK(again.body.find(secret) == std::string::npos);
    auto keys = get(app, "/api/keys", bearer(token));
    CHECK(keys.json().at("items").as_array().size() == 1);  // made once
    boost::asio::io_context io;
    CHECK(spur::test::test_db_row(io, "SELECT CAST(COUNT(*) AS CHAR) FROM spur_idempotency WHERE LOCATE(?, COALESCE(body, '')) > 0",
                                  secret) == "0");
}
