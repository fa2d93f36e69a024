// The router alone (through the in-process test client): matching, percent-decoding of
// params, 404/405/OPTIONS. Input: "METHOD TARGET". Oracle: no crash, and only the statuses
// the router can produce.
#include <spur/spur.hpp>
#include <spur/testing/client.hpp>

#include <cstdint>
#include <string>

namespace {

spur::App& app() {
    static spur::App* a = [] {
        auto* app = new spur::App(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
        auto ok = [](spur::Request& req, spur::Response& res) {
            std::string out;
            for (auto name : {"id", "post", "rest", "name"}) out += std::string(req.param(name)) + "|";
            res.send(out);
        };
        app->get("/", ok);
        app->get("/users/me", ok);
        app->get("/users/:id", ok);
        app->put("/users/:id", ok);
        app->get("/users/:id/posts/:post", ok);
        app->get("/files/*rest", ok);
        app->all("/any/:name", ok);
        app->route("PROPFIND", "/dav/:name", ok);
        spur::Router api;
        api.get("/items/:id", ok);
        api.post("/items", ok);
        app->mount("/api/v1", api);
        return app;
    }();
    return *a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    auto space = input.find(' ');
    if (space == std::string::npos || space == 0) return 0;
    std::string method = input.substr(0, space), target = input.substr(space + 1);
    for (char c : method)
        if (c < 'A' || c > 'Z') return 0;  // the wire parser admits only tokens; keep to them
    if (target.empty() || target[0] != '/') return 0;
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return 0;
    spur::testing::Client client(app());
    auto r = client.request(method, target);
    if (r.status != 200 && r.status != 204 && r.status != 400 && r.status != 404 && r.status != 405) __builtin_trap();
    return 0;
}
