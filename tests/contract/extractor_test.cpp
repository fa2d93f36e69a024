// User-defined extractors: a type with a static extract(Request&) (plain or coroutine) taken
// by a handler like the built-in inputs, in the order the issue asks (path, extractors, the
// rest), documented in OpenAPI from the extractor itself.
#include <spur/contract/contract.hpp>

#include <spur/app.hpp>
#include <spur/openapi/openapi.hpp>
#include <spur/testing/client.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <string>

namespace extractor_test {

std::atomic<int> key_checks{0};

// A synchronous extractor: the caller named by a valid X-Key, or 401.
struct Caller {
    std::string name;
    static Caller extract(spur::Request& req) {
        ++key_checks;
        if (req.header("X-Key") != "secret") throw spur::HttpError(401, "unauthorized", "A valid X-Key is required");
        return Caller{"ann"};
    }
    static void document(spur::ExtractorDoc& doc) {
        doc.security.push_back("apiKey");
        doc.errors.emplace_back(401, "No valid X-Key");
    }
};

// A coroutine extractor, as a database lookup would be: it suspends before answering.
struct Account {
    std::string owner;
    static spur::Task<Account> extract(spur::Request& req) {
        auto executor = co_await boost::asio::this_coro::executor;
        co_await boost::asio::post(executor, boost::asio::use_awaitable);
        if (req.header("X-Account").empty()) throw spur::HttpError(403, "forbidden", "No account");
        co_return Account{std::string(req.header("X-Account"))};
    }
    static void document(spur::ExtractorDoc& doc) {
        doc.security.push_back("apiKey");  // named twice: documented once
        doc.errors.emplace_back(403, "No account");
    }
};

struct Note {
    spur::String<1, 10> text;
};
BOOST_DESCRIBE_STRUCT(Note, (), (text))

}  // namespace extractor_test

namespace extractor_test {
namespace json = boost::json;

namespace {

spur::App extractor_app() {
    spur::App app;
    app.get("/me", [](spur::Request&, spur::Response& res, Caller who) { res.send(who.name); });
    // Extractors in any order with the built-in inputs; a coroutine one makes a plain handler a coroutine.
    app.post("/items/:id", [](spur::Request&, spur::Response& res, spur::Body<Note> note, Caller who,
                              spur::Path<spur::Int<1>> id, Account account) {
        res.send(who.name + "/" + account.owner + "/" + std::to_string(static_cast<std::int64_t>(*id)) + "/" + std::string(note->text));
    });
    app.get("/account", [](spur::Request&, spur::Response& res, Account account) -> spur::Task<> {
        res.send(account.owner);
        co_return;
    });
    return app;
}

}  // namespace

TEST_CASE("a synchronous extractor gives the handler its value - or answers its error", "[contract][extractor]") {
    auto app = extractor_app();
    spur::testing::Client client(app);
    key_checks = 0;
    auto ok = client.get("/me", {{"X-Key", "secret"}});
    CHECK(ok.status == 200);
    CHECK(ok.body == "ann");
    auto refused = client.get("/me", {{"X-Key", "guess"}});
    CHECK(refused.status == 401);
    CHECK(refused.json().at("error").at("code") == "unauthorized");
    CHECK(key_checks == 2);  // once per request
}

TEST_CASE("a coroutine extractor is awaited - plain and coroutine handlers alike", "[contract][extractor]") {
    auto app = extractor_app();
    spur::testing::Client client(app);
    auto ok = client.get("/account", {{"X-Account", "acme"}});
    CHECK(ok.status == 200);
    CHECK(ok.body == "acme");
    CHECK(client.get("/account").status == 403);

    auto all = client.post_json("/items/7", {{"text", "hi"}}, {{"X-Key", "secret"}, {"X-Account", "acme"}});
    CHECK(all.status == 200);
    CHECK(all.body == "ann/acme/7/hi");
}

TEST_CASE("the path is read first, then the extractors in parameter order, then the rest", "[contract][extractor]") {
    auto app = extractor_app();
    spur::testing::Client client(app);
    key_checks = 0;
    // A path that names nothing: 404 before any extractor runs.
    CHECK(client.post_json("/items/0", {{"text", ""}}).status == 404);
    CHECK(key_checks == 0);
    // No key and an invalid body: the extractor's 401, not the body's 422.
    CHECK(client.post_json("/items/7", {{"text", ""}}).status == 401);
    // A key but no account: Account comes after Caller, so 403.
    CHECK(client.post_json("/items/7", {{"text", ""}}, {{"X-Key", "secret"}}).status == 403);
    // Both extractors satisfied: now the body is validated.
    auto invalid = client.post_json("/items/7", {{"text", ""}}, {{"X-Key", "secret"}, {"X-Account", "acme"}});
    CHECK(invalid.status == 422);
    CHECK(invalid.json().at("error").at("details").at(0).at("path") == "/text");
}

TEST_CASE("an extractor documents its security and its error answers on every route that takes it", "[contract][extractor][openapi]") {
    auto app = extractor_app();
    spur::OpenApiOptions options;
    options.security_schemes["apiKey"] = {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Key"}};
    spur::openapi(app, options);
    const auto doc = spur::openapi_document(app);
    const auto& me = doc.at("paths").at("/me").at("get").as_object();
    CHECK(me.at("security") == json::parse(R"([{"apiKey":[]}])"));
    CHECK(me.at("responses").at("401").at("description") == "No valid X-Key");
    CHECK_FALSE(me.at("responses").as_object().contains("422"));  // no typed input to validate

    const auto& item = doc.at("paths").at("/items/{id}").at("post").as_object();
    CHECK(item.at("security") == json::parse(R"([{"apiKey":[]}])"));
    CHECK(item.at("responses").as_object().contains("401"));
    CHECK(item.at("responses").as_object().contains("403"));
    CHECK(item.at("responses").as_object().contains("422"));
    CHECK(doc.at("components").at("securitySchemes").as_object().contains("apiKey"));
}

}  // namespace extractor_test
