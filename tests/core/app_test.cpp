#include <spur/app.hpp>

#include <spur/offload.hpp>
#include <spur/testing/client.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "support/captured_log.hpp"

#include "support/error_body.hpp"
#include "support/quiet_app.hpp"

#include <catch2/catch.hpp>

#include <map>

#include <mutex>
#include <thread>

using spur::App;
using spur::HttpError;
using spur::Next;
using spur::Request;
using spur::Response;
using spur::Task;
using spur::testing::Client;

using spur::test::CapturedLog;

TEST_CASE("middleware is an onion: code after next() runs after the handler", "[core][app]") {
    App app;
    std::vector<std::string> trace;
    app.use([&](Request&, Response& res, Next next) -> Task<> {
        trace.push_back("outer in");
        co_await next();
        trace.push_back("outer out");
        res.set("X-Outer", "1");
    });
    app.use([&](Request&, Response&, Next next) -> Task<> {
        trace.push_back("inner in");
        co_await next();
        trace.push_back("inner out");
    });
    app.get("/", [&](Request&, Response& res) {
        trace.push_back("handler");
        res.send("ok");
    });
    Client c(app);
    auto r = c.get("/");
    CHECK(r.body == "ok");
    CHECK(r.header("X-Outer") == "1");
    CHECK(trace == std::vector<std::string>{"outer in", "inner in", "handler", "inner out", "outer out"});
}

TEST_CASE("middleware that does not call next() answers and short-circuits", "[core][app]") {
    App app;
    bool handler_ran = false;
    app.use([](Request& req, Response& res, Next next) -> Task<> {
        if (req.header("Authorization").empty()) {
            res.status(401).json({{"success", false}});
            co_return;
        }
        co_await next();
    });
    app.get("/secret", [&](Request&, Response& res) {
        handler_ran = true;
        res.send("secret");
    });
    Client c(app);
    CHECK(c.get("/secret").status == 401);
    CHECK_FALSE(handler_ran);
    CHECK(c.get("/secret", {{"Authorization", "x"}}).body == "secret");
}

TEST_CASE("a plain-function middleware's throw comes out of the co_await of next()", "[core][app][errors]") {
    App app;
    app.use([](Request&, Response& res, Next next) -> Task<> {
        Task<> rest = next();  // named first, awaited inside the try
        try {
            co_await std::move(rest);
        } catch (const std::exception& e) {
            res.status(418).send(std::string("caught ") + e.what());
        }
    });
    // Not a coroutine: it throws before any task exists.
    app.use([](Request&, Response&, Next) -> Task<> { throw std::runtime_error("sync"); });
    app.get("/x", [](Request&, Response& res) { res.send("unreachable"); });
    Client c(app);
    auto r = c.get("/x");
    CHECK(r.status == 418);
    CHECK(r.body == "caught sync");
}

TEST_CASE("calling next() twice is a logic error answered with 500", "[core][app][errors]") {
    CapturedLog log;
    App app(spur::AppOptions{log.sink()});
    app.use([](Request&, Response&, Next next) -> Task<> {
        co_await next();
        co_await next();
    });
    int handled = 0;
    app.get("/x", [&](Request&, Response& res) {
        ++handled;
        res.send("once");
    });
    Client c(app);
    auto r = c.get("/x");
    CHECK(r.status == 500);
    CHECK(handled == 1);
    CHECK(log.contains("next() called more than once"));
}

TEST_CASE("before steps run in order around coroutine middleware and go on to the handler", "[core][app][before]") {
    App app;
    std::vector<std::string> trace;
    app.use(spur::before([&](Request&, Response& res) {
        trace.push_back("step 1");
        res.set("X-Step", "1");
    }));
    app.use([&](Request&, Response&, Next next) -> Task<> {
        trace.push_back("coroutine in");
        co_await next();
        trace.push_back("coroutine out");
    });
    app.use(spur::before([&](Request&, Response&) { trace.push_back("step 2"); }));
    app.get("/x", [&](Request&, Response& res) {
        trace.push_back("handler");
        res.send("ok");
    });
    // The same step called as an ordinary Middleware (wrapped by another) behaves alike.
    spur::Middleware wrapped = spur::before([&](Request&, Response&) { trace.push_back("wrapped"); });
    app.get("/y", [wrapped](Request& req, Response& res, Next next) -> Task<> { co_await wrapped(req, res, next); },
            [&](Request&, Response& res) {
                trace.push_back("handler y");
                res.send("y");
            });
    Client c(app);
    auto r = c.get("/x");
    CHECK(r.status == 200);
    CHECK(r.body == "ok");
    CHECK(r.header("X-Step") == "1");
    CHECK(trace == std::vector<std::string>{"step 1", "coroutine in", "step 2", "handler", "coroutine out"});
    trace.clear();
    CHECK(c.get("/y").body == "y");
    CHECK(trace == std::vector<std::string>{"step 1", "coroutine in", "step 2", "wrapped", "handler y", "coroutine out"});
    CHECK_THROWS_AS(spur::before(nullptr), std::invalid_argument);
}

TEST_CASE("a before step that answers ends the chain, and one that throws is an error response", "[core][app][before]") {
    App app = spur::test::quiet_app();
    int handled = 0;
    app.use(spur::before([](Request&, Response& res) { res.set("X-Seen", "yes"); }));
    app.use(spur::before([](Request& req, Response& res) {
        if (req.path() == "/answered") res.status(202).send("from the step");
        if (req.path() == "/refused") throw HttpError(403, "refused", "No");
    }));
    app.use(spur::before([&](Request&, Response&) { ++handled; }));
    for (const char* path : {"/answered", "/refused", "/ok"})
        app.get(path, [&](Request&, Response& res) {
            ++handled;
            res.send("handler");
        });
    Client c(app);
    auto answered = c.get("/answered");
    CHECK(answered.status == 202);
    CHECK(answered.body == "from the step");
    auto refused = c.get("/refused");
    CHECK(refused.status == 403);
    CHECK(refused.header("X-Seen") == "yes");  // what earlier steps set stays on the error response
    CHECK(handled == 0);
    CHECK(c.get("/ok").body == "handler");
    CHECK(handled == 2);  // the last step and the handler
}

TEST_CASE("a before step after a middleware that answered and still called next() ends the chain", "[core][app][before]") {
    App app;
    bool handler_ran = false;
    app.use([](Request&, Response& res, Next next) -> Task<> {
        res.send("early");
        co_await next();
    });
    // A guard written as a step: its answer stands, as a coroutine guard's would.
    app.use(spur::before([](Request& req, Response& res) {
        if (req.path() == "/guarded") res.status(401).send("guard");
        res.set("X-Step", "ran");
    }));
    app.get("/x", [&](Request&, Response& res) {
        handler_ran = true;
        res.send("secret");
    });
    app.get("/guarded", [&](Request&, Response& res) {
        handler_ran = true;
        res.send("secret");
    });
    Client c(app);
    auto r = c.get("/x");
    CHECK(r.body == "early");
    CHECK(r.header("X-Step") == "ran");
    auto g = c.get("/guarded");
    CHECK(g.status == 401);
    CHECK(g.body == "guard");
    CHECK_FALSE(handler_ran);
}

TEST_CASE("global middleware also sees 404s", "[core][app]") {
    App app;
    int seen = 0;
    app.use([&](Request&, Response&, Next next) -> Task<> {
        ++seen;
        co_await next();
    });
    Client c(app);
    CHECK(c.get("/missing").status == 404);
    CHECK(seen == 1);
}

TEST_CASE("locals carry data from middleware to the handler", "[core][app]") {
    App app;
    app.use([](Request& req, Response&, Next next) -> Task<> {
        req.locals().set("user", std::string("ada"));
        req.locals().set("uid", 7);
        co_await next();
    });
    app.get("/me", [](Request& req, Response& res) {
        auto* user = req.locals().get<std::string>("user");
        auto* uid = req.locals().get<int>("uid");
        CHECK(req.locals().get<double>("uid") == nullptr);  // wrong type is null, not UB
        res.json({{"user", user ? *user : ""}, {"uid", uid ? *uid : 0}});
    });
    Client c(app);
    CHECK(c.get("/me").json() == boost::json::parse(R"({"user":"ada","uid":7})"));
}

TEST_CASE("coroutine handlers can await timers and other async work", "[core][app]") {
    App app;
    app.post("/echo", [](Request& req, Response& res) -> Task<> {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(5));
        co_await timer.async_wait(boost::asio::use_awaitable);
        res.status(201).send(req.body());
    });
    Client c(app);
    auto r = c.post("/echo", "payload");
    CHECK(r.status == 201);
    CHECK(r.body == "payload");
}

TEST_CASE("HttpError becomes its status and the JSON error body", "[core][app][errors]") {
    App app;
    app.get("/conflict", [](Request&, Response&) { throw HttpError(409, "email_taken", "Email already registered"); });
    app.get("/limited", [](Request&, Response&) {
        throw HttpError(429, "too_many_requests", "Slow down").with_header("Retry-After", "3");
    });
    Client c(app);
    auto r = c.get("/conflict");
    CHECK(r.status == 409);
    CHECK(spur::test::without_request_id(r.json()) ==
          boost::json::parse(R"({"success":false,"error":{"code":"email_taken","message":"Email already registered"}})"));
    auto l = c.get("/limited");
    CHECK(l.status == 429);
    CHECK(l.header("Retry-After") == "3");
}

TEST_CASE("an unexpected exception is a 500 that leaks nothing and is logged", "[core][app][errors]") {
    CapturedLog log;
    App app(spur::AppOptions{log.sink()});
    app.get("/boom", [](Request&, Response& res) {
        res.set("Content-Type", "text/html");
        throw std::runtime_error("db password is hunter2");
    });
    Client c(app);
    auto r = c.get("/boom");
    CHECK(r.status == 500);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(spur::test::without_request_id(r.json()) == boost::json::parse(
                          R"({"success":false,"error":{"code":"internal_error","message":"Internal Server Error"}})"));
    CHECK(r.body.find("hunter2") == std::string::npos);
    REQUIRE(log.lines.size() == 1);
    CHECK(log.lines[0].find("GET /boom") != std::string::npos);
    CHECK(log.lines[0].find("hunter2") != std::string::npos);
}

TEST_CASE("exceptions thrown after next() in middleware are handled too", "[core][app][errors]") {
    App app(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
    app.use([](Request&, Response&, Next next) -> Task<> {
        co_await next();
        throw std::runtime_error("late failure");
    });
    app.get("/", [](Request&, Response& res) { res.send("fine"); });
    Client c(app);
    CHECK(c.get("/").status == 500);
}

TEST_CASE("headers set before an error survive it (CORS on error responses)", "[core][app][errors]") {
    App app;
    app.use([](Request&, Response& res, Next next) -> Task<> {
        res.set("Access-Control-Allow-Origin", "https://example.com");
        co_await next();
    });
    app.get("/x", [](Request&, Response&) { throw HttpError(403, "forbidden", "No"); });
    Client c(app);
    auto r = c.get("/x");
    CHECK(r.status == 403);
    CHECK(r.header("Access-Control-Allow-Origin") == "https://example.com");
}

TEST_CASE("a custom error handler renders every error - including 404", "[core][app][errors]") {
    App app;
    app.on_error([](Request& req, Response& res, const HttpError& e) -> Task<> {
        res.type("html").send("<h1>" + std::to_string(e.status()) + " " + e.code() + "</h1> at " + std::string(req.path()));
        co_return;
    });
    app.get("/teapot", [](Request&, Response&) { throw HttpError(418, "teapot", "I'm a teapot"); });
    Client c(app);
    auto r = c.get("/teapot");
    CHECK(r.status == 418);
    CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(r.body == "<h1>418 teapot</h1> at /teapot");
    auto missing = c.get("/nowhere");
    CHECK(missing.status == 404);
    CHECK(missing.body == "<h1>404 not_found</h1> at /nowhere");
}

TEST_CASE("a failing error handler falls back to a plain 500", "[core][app][errors]") {
    App app(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
    app.use(spur::before([](Request&, Response& res) { res.set("X-Frame-Options", "DENY"); }));
    app.on_error([](Request&, Response& res, const HttpError&) -> Task<> {
        res.set("Cache-Control", "max-age=3600");
        res.cookie("seen", "1");
        res.type("html").send("<h1>half");
        throw std::runtime_error("renderer broke");
        co_return;
    });
    app.get("/x", [](Request&, Response&) { throw HttpError(429, "slow_down", "Later").with_header("Retry-After", "30"); });
    Client c(app);
    auto r = c.get("/x");
    CHECK(r.status == 500);
    CHECK(r.json().at("error").at("code") == "internal_error");
    CHECK(r.header("Content-Type") == "application/json");
    // What the middleware set stays; what the failed rendering and the original error set goes.
    CHECK(r.header("X-Frame-Options") == "DENY");
    CHECK(r.header("Cache-Control").empty());
    CHECK(r.header("Set-Cookie").empty());
    CHECK(r.header("Retry-After").empty());
}

TEST_CASE("calling next() twice is refused", "[core][app][errors]") {
    App app(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
    int handler_runs = 0;
    app.use([](Request&, Response&, Next next) -> Task<> {
        co_await next();
        co_await next();
    });
    app.get("/", [&](Request&, Response& res) {
        ++handler_runs;
        res.send("x");
    });
    Client c(app);
    CHECK(c.get("/").status == 500);
    CHECK(handler_runs == 1);
}

TEST_CASE("a header value with CR/LF set by a handler is refused: no response splitting", "[core][app][errors]") {
    App app(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
    app.get("/split", [](Request& req, Response& res) {
        res.set("X-Echo", std::string(req.query("v").value_or(""))).send("ok");
    });
    Client c(app);
    auto r = c.get("/split?v=a%0D%0ASet-Cookie:%20evil=1");
    CHECK(r.status == 500);
    CHECK(r.header("Set-Cookie").empty());
    CHECK(r.header("X-Echo").empty());
    CHECK(c.get("/split?v=fine").header("X-Echo") == "fine");
}

TEST_CASE("a handler that sends nothing answers its status with an empty body", "[core][app]") {
    App app;
    app.del("/thing", [](Request&, Response& res) { res.status(204); });
    app.get("/empty", [](Request&, Response&) {});
    Client c(app);
    auto r = c.del("/thing");
    CHECK(r.status == 204);
    CHECK(r.header("Content-Length").empty());
    auto e = c.get("/empty");
    CHECK(e.status == 200);
    CHECK(e.header("Content-Length") == "0");
}

TEST_CASE("offload runs work on another thread and resumes with its result", "[core][app][offload][concurrency]") {
    App app;
    app.get("/hash", [](Request&, Response& res) -> Task<> {
        auto io_thread = std::this_thread::get_id();
        auto [value, worker] = co_await spur::offload([] { return std::make_pair(6 * 7, std::this_thread::get_id()); });
        CHECK(worker != io_thread);
        CHECK(std::this_thread::get_id() == io_thread);
        res.json({{"value", value}});
    });
    app.get("/fail", [](Request&, Response&) -> Task<> {
        co_await spur::offload([] { throw HttpError(422, "invalid", "Rejected by worker"); });
    });
    Client c(app);
    CHECK(c.get("/hash").json().at("value") == 42);
    auto f = c.get("/fail");
    CHECK(f.status == 422);
    CHECK(f.json().at("error").at("code") == "invalid");
}

// The test client's result is the header as it goes out: the response's fields with the Date,
// Server and Content-Length the server writes itself, once each. The finish hooks run after the
// "write": they see the header without those three, and what they set reaches no client.
TEST_CASE("the test client shows the header as written, once each, whatever the finish hooks do", "[core][app]") {
    App app;
    std::string seen;
    app.get("/x", [&](Request&, Response& res) {
        res.on_finish([&](Response& r) {
            seen = std::string(r.get("Server")) + "|" + std::string(r.get("Content-Length")) + "|" +
                   std::to_string(r.get("Date").size());
            r.set("Server", "hooked");
            r.set("Content-Length", "1");
        });
        res.send("hello");
    });
    Client c(app);
    auto r = c.get("/x");
    CHECK(seen == "||0");
    std::map<std::string, int> count;
    for (const auto& field : r.headers) ++count[std::string(field.name_string())];
    CHECK(count["Server"] == 1);
    CHECK(count["Content-Length"] == 1);
    CHECK(count["Date"] == 1);
    CHECK(r.header("Server") == "spur");
    CHECK(r.header("Content-Length") == "5");
    CHECK(r.body == "hello");
}
