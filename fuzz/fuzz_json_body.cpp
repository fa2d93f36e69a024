// JSON request bodies through the json_body middleware and the error handler.
// Oracle: no crash, and only 200 (valid JSON, echoed), 400 (malformed) or 413 (too large).
#include <spur/middleware/json_body.hpp>
#include <spur/spur.hpp>
#include <spur/testing/client.hpp>

#include <cstdint>
#include <string>

namespace {
spur::App& app() {
    static spur::App* a = [] {
        auto* app = new spur::App(spur::AppOptions{[](spur::LogLevel, std::string_view) {}});
        spur::middleware::JsonBodyOptions o;
        o.limit = 16 * 1024;
        app->use(spur::middleware::json_body(o));
        app->post("/", [](spur::Request& req, spur::Response& res) { res.json(req.json()); });
        return app;
    }();
    return *a;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    spur::testing::Client client(app());
    auto r = client.post("/", std::string(reinterpret_cast<const char*>(data), size), {{"Content-Type", "application/json"}});
    if (r.status != 200 && r.status != 400 && r.status != 413) __builtin_trap();
    if (r.status == 400 && r.body.find("\"success\":false") == std::string::npos) __builtin_trap();
    return 0;
}
