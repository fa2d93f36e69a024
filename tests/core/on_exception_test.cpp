#include <spur/app.hpp>

#include <spur/testing/client.hpp>

#include "support/captured_log.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

using spur::App;
using spur::HttpError;
using spur::Request;
using spur::Response;
using spur::Task;
using spur::testing::Client;

namespace {
struct StoreDown : std::runtime_error {
    explicit StoreDown(bool retryable) : std::runtime_error("store down"), retryable(retryable) {}
    bool retryable;
};
struct StoreTimeout : StoreDown {
    StoreTimeout() : StoreDown(true) {}
};
}  // namespace

TEST_CASE("on_exception answers an exception of its type with the mapper's HttpError", "[core][app][errors]") {
    spur::test::CapturedLog log;
    App app(spur::AppOptions{log.sink()});
    int mapped = 0;
    app.on_exception<StoreDown>([&](const StoreDown& e, Request& req) -> std::optional<HttpError> {
        ++mapped;
        if (!e.retryable) return std::nullopt;  // not this mapper's: the logged 500
        return HttpError(503, "store_unavailable", "Try again shortly").with_header("X-Path", std::string(req.path()));
    });
    app.on_exception<std::out_of_range>([](const std::out_of_range&, Request&) -> std::optional<HttpError> {
        throw std::logic_error("mapper bug");
    });
    // A later mapper of a wider type sees what the earlier ones left.
    app.on_exception<std::runtime_error>([](const std::runtime_error& e, Request&) -> std::optional<HttpError> {
        if (std::string(e.what()) == "teapot") return HttpError(418, "teapot", "Short and stout");
        return std::nullopt;
    });
    app.get("/down", [](Request&, Response&) { throw StoreDown(true); });
    app.get("/down-async", [](Request&, Response&) -> Task<> {
        throw StoreTimeout();  // derived: the StoreDown mapper takes it
        co_return;
    });
    app.get("/not-retryable", [](Request&, Response&) { throw StoreDown(false); });
    app.get("/range", [](Request&, Response&) { throw std::out_of_range("index 7"); });
    app.get("/teapot", [](Request&, Response&) { throw std::runtime_error("teapot"); });
    app.get("/http", [](Request&, Response&) { throw HttpError(409, "conflict", "Taken"); });
    app.use(spur::before([](Request& req, Response&) {
        if (req.header("X-Fail") == "yes") throw StoreDown(true);
    }));
    Client c(app);

    auto down = c.get("/down");
    CHECK(down.status == 503);
    CHECK(down.header("X-Path") == "/down");
    CHECK(down.body.find("store_unavailable") != std::string::npos);
    CHECK(c.get("/down-async").status == 503);
    CHECK(c.get("/http", {{"X-Fail", "yes"}}).status == 503);  // from a middleware step too
    CHECK(mapped == 3);
    CHECK_FALSE(log.contains("unhandled exception"));

    auto declined = c.get("/not-retryable");
    CHECK(declined.status == 500);
    CHECK(declined.body.find("store down") == std::string::npos);  // nothing internal leaks
    CHECK(log.contains("unhandled exception in GET /not-retryable: store down"));

    auto failing = c.get("/range");
    CHECK(failing.status == 500);
    CHECK(log.contains("index 7 (and its on_exception mapper failed: mapper bug)"));

    CHECK(c.get("/teapot").status == 418);
    const int before_http = mapped;
    CHECK(c.get("/http").status == 409);  // an HttpError never reaches a mapper
    CHECK(mapped == before_http);
}

TEST_CASE("a mapped exception goes through on_error like any error", "[core][app][errors]") {
    App app;
    app.on_exception<std::invalid_argument>([](const std::invalid_argument& e, Request&) -> std::optional<HttpError> {
        return HttpError(400, "bad_argument", e.what());
    });
    std::string seen;
    app.on_error([&](Request&, Response& res, const HttpError& e) -> Task<> {
        seen = e.code();
        res.set("X-Error-Handler", "ran");
        co_return;
    });
    app.get("/x", [](Request&, Response&) { throw std::invalid_argument("no such colour"); });
    Client c(app);
    auto r = c.get("/x");
    CHECK(r.status == 400);
    CHECK(r.header("X-Error-Handler") == "ran");
    CHECK(seen == "bad_argument");
    CHECK_THROWS_AS(app.on_exception<std::exception>(nullptr), std::invalid_argument);
}

TEST_CASE("an HttpError refuses a header that would split the response where it is made", "[core][app][errors]") {
    CHECK_THROWS_AS(HttpError(503, "busy", "Busy").with_header("Retry-After", "1\r\nSet-Cookie: a=b"), std::invalid_argument);
    CHECK_THROWS_AS(HttpError(503, "busy", "Busy").with_header("Bad Name", "1"), std::invalid_argument);
    spur::test::CapturedLog log;
    App app(spur::AppOptions{log.sink()});
    app.on_exception<std::runtime_error>([](const std::runtime_error&, Request&) -> std::optional<HttpError> {
        return HttpError(503, "busy", "Busy").with_header("Retry-After", "1").with_header("X-Bad", "a\nInjected: 1");
    });
    app.get("/handler", [](Request&, Response&) {
        throw HttpError(503, "busy", "Busy").with_header("Retry-After", "1").with_header("X-Bad", "a\r\nInjected: 1");
    });
    app.get("/mapped", [](Request&, Response&) { throw std::runtime_error("store down"); });
    Client c(app);
    for (const char* path : {"/handler", "/mapped"}) {
        auto r = c.get(path);
        CHECK(r.status == 500);
        CHECK(r.header("Injected").empty());
        CHECK(r.header("Retry-After").empty());  // nothing of the half-made error reaches the answer
    }
    CHECK(log.contains("CR, LF or NUL in header value"));
    CHECK_FALSE(log.contains("error handler failed"));
}
