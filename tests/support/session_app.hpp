#pragma once
// The app both session test files use: a counter in the session, written or only read, with
// login (regenerate) and logout (destroy) — the same routes over either store.

#include <spur/app.hpp>
#include <spur/http_error.hpp>
#include <spur/middleware/session.hpp>

namespace spur::test {

/// GET /count reads, POST /inc and POST /set/:key write, POST /login regenerates (and stores
/// "user"), POST /logout destroys, GET /throws writes and then fails with 409.
inline App session_app(middleware::SessionOptions options) {
    App app(AppOptions{.log = [](LogLevel, std::string_view) {}});
    app.use(middleware::session(std::move(options)));
    app.get("/count", [](Request& req, Response& res) {
        auto& s = session(req);
        res.json({{"count", s.get<int>("count").value_or(0)}, {"new", s.is_new()}, {"id", s.id()}});
    });
    app.post("/inc", [](Request& req, Response& res) {
        auto& s = session(req);
        s.set("count", s.get<int>("count").value_or(0) + 1);
        res.json({{"count", *s.get<int>("count")}});
    });
    app.post("/set/:key", [](Request& req, Response& res) {
        session(req).set(req.param("key"), true);
        res.status(204).end();
    });
    app.post("/login", [](Request& req, Response& res) {
        session(req).regenerate();
        session(req).set("user", 7);
        res.json({{"id", session(req).id()}});
    });
    app.post("/logout", [](Request& req, Response& res) {
        session(req).destroy();
        res.status(204).end();
    });
    app.get("/throws", [](Request& req, Response&) {
        session(req).set("count", 100);
        throw HttpError(409, "conflict", "no");
    });
    return app;
}

}  // namespace spur::test
