#pragma once
// The app most wire tests in this folder serve, and a raw GET builder for them.

#include <spur/app.hpp>

#include "support/quiet_app.hpp"
#include "support/sleep.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace spur::test {

/// Routes: / (root), /echo?v= (echoes v), POST /body (its size), /auth (echoes Authorization,
/// and the body on POST), /slow (answers after 50 ms, so that later requests queue behind it).
inline void add_basic_routes(App& app) {
    app.get("/", [](Request&, Response& res) { res.send("root"); });
    app.get("/echo", [](Request& req, Response& res) { res.send(std::string(req.query("v").value_or(""))); });
    app.post("/body", [](Request& req, Response& res) { res.send("got " + std::to_string(req.body().size())); });
    app.get("/auth", [](Request& req, Response& res) { res.send("auth=[" + std::string(req.header("Authorization")) + "]"); });
    app.post("/auth", [](Request& req, Response& res) {
        res.send("auth=[" + std::string(req.header("Authorization")) + "] body=" + req.body());
    });
    app.get("/slow", [](Request&, Response& res) -> Task<> {
        co_await sleep_for(std::chrono::milliseconds(50));
        res.send("slow");
    });
}

/// A raw HTTP/1.1 GET of `path` with Host and the `extra` header lines.
inline std::string get(std::string_view path, std::string_view extra = "") {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

}  // namespace spur::test
