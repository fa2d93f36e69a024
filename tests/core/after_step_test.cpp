#include <spur/app.hpp>

#include <spur/offload.hpp>
#include <spur/testing/client.hpp>

#include "support/quiet_app.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using spur::App;
using spur::HttpError;
using spur::Next;
using spur::Request;
using spur::Response;
using spur::Task;
using spur::testing::Client;

namespace {
// Three routes answering alike: a synchronous handler (the chain may run without a
// coroutine), a coroutine handler, and a synchronous one behind a coroutine middleware.
void add_three_routes(App& app, std::vector<std::string>& trace) {
    app.get("/sync", [&](Request&, Response& res) {
        trace.push_back("handler");
        res.status(201).send("body");
    });
    app.get("/async", [&](Request&, Response& res) -> Task<> {
        trace.push_back("handler");
        res.status(201).send("body");
        co_return;
    });
    app.get("/mixed",
            [&](Request&, Response&, Next next) -> Task<> {
                trace.push_back("route coroutine");
                co_await next();
            },
            [&](Request&, Response& res) {
                trace.push_back("handler");
                res.status(201).send("body");
            });
}
}  // namespace

TEST_CASE("after steps run innermost first once the handler answered, with or without a coroutine", "[core][app][after]") {
    App app;
    std::vector<std::string> trace;
    app.use(spur::after([&](Request&, Response& res) {
        trace.push_back("after outer");
        res.set("X-Outer-Saw", std::to_string(res.status()) + " " + std::string(res.get("X-Inner")));
    }));
    app.use(spur::before([&](Request&, Response&) { trace.push_back("before"); }));
    app.use(spur::after([&](Request&, Response& res) {
        trace.push_back("after inner");
        res.set("X-Inner", "set");
        res.body() += "+inner";
    }));
    add_three_routes(app, trace);
    Client c(app);
    for (const char* path : {"/sync", "/async"}) {
        trace.clear();
        auto r = c.get(path);
        CHECK(r.status == 201);
        CHECK(r.body == "body+inner");
        CHECK(r.header("X-Outer-Saw") == "201 set");
        CHECK(trace == std::vector<std::string>{"before", "handler", "after inner", "after outer"});
    }
    trace.clear();
    CHECK(c.get("/mixed").body == "body+inner");
    CHECK(trace == std::vector<std::string>{"before", "route coroutine", "handler", "after inner", "after outer"});
    CHECK_THROWS_AS(spur::after(nullptr), std::invalid_argument);
}

TEST_CASE("after steps skip a chain that threw, and a before step's answer passes only the after steps outside it", "[core][app][after]") {
    App app = spur::test::quiet_app();
    std::vector<std::string> trace;
    app.use(spur::after([&](Request&, Response& res) {
        trace.push_back("after outer");
        res.set("X-After", "outer");
    }));
    app.use(spur::before([&](Request& req, Response& res) {
        if (req.path() == "/guarded") res.status(401).send("guard");
    }));
    app.use(spur::after([&](Request&, Response&) { trace.push_back("after inner"); }));
    app.get("/guarded", [&](Request&, Response& res) {
        trace.push_back("handler");
        res.send("secret");
    });
    app.get("/throws", [&](Request&, Response&) {
        trace.push_back("handler");
        throw HttpError(409, "conflict", "No");
    });
    app.get("/throws-async", [&](Request&, Response&) -> Task<> {
        trace.push_back("handler");
        throw HttpError(409, "conflict", "No");
        co_return;
    });
    Client c(app);
    auto guarded = c.get("/guarded");
    CHECK(guarded.status == 401);
    CHECK(guarded.body == "guard");
    CHECK(guarded.header("X-After") == "outer");
    CHECK(trace == std::vector<std::string>{"after outer"});
    for (const char* path : {"/throws", "/throws-async"}) {
        trace.clear();
        auto r = c.get(path);
        CHECK(r.status == 409);
        CHECK(r.header("X-After").empty());
        CHECK(trace == std::vector<std::string>{"handler"});
    }
    // The router's 404 is thrown at the end of the chain, as a handler's error is.
    trace.clear();
    CHECK(c.get("/nowhere").status == 404);
    CHECK(trace.empty());
}

TEST_CASE("an after step that suspends finishes the request, then the after steps outside it run", "[core][app][after]") {
    App app;
    std::vector<std::string> trace;
    app.use(spur::after([&](Request&, Response& res) {
        trace.push_back("after outer");
        res.body() += "+outer";
    }));
    // Suspends only for bodies of "body" and longer, as compression does for large ones.
    app.use(spur::detail::AfterStep{[&](Request&, Response& res) {
                                        trace.push_back("step");
                                        return res.body().size() < 4;
                                    },
                                    [&](Request&, Response& res) -> Task<> {
                                        trace.push_back("later");
                                        auto work = [body = res.body()] { return body + "+off-thread"; };
                                        res.body() = co_await spur::offload(work);
                                    }});
    app.use(spur::after([&](Request&, Response&) { trace.push_back("after inner"); }));
    add_three_routes(app, trace);
    app.get("/short", [&](Request&, Response& res) {
        trace.push_back("handler");
        res.send("ab");
    });
    Client c(app);
    for (const char* path : {"/sync", "/async", "/mixed"}) {
        trace.clear();
        auto r = c.get(path);
        CHECK(r.status == 201);
        CHECK(r.body == "body+off-thread+outer");
        CHECK(trace.back() == "after outer");
        CHECK(std::vector<std::string>(trace.end() - 4, trace.end()) ==
              std::vector<std::string>{"after inner", "step", "later", "after outer"});
    }
    trace.clear();
    CHECK(c.get("/short").body == "ab+outer");
    CHECK(trace == std::vector<std::string>{"handler", "after inner", "step", "after outer"});
}
