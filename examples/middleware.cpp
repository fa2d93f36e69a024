// Writing middleware: a timer that runs around everything, and an auth guard for one router.
// Run: ./middleware [port]
//   curl -i localhost:3000/public                             -> 200, Server-Timing header
//   curl -i localhost:3000/admin/stats                        -> 401
//   curl -H 'Authorization: Bearer letmein' localhost:3000/admin/stats -> {"user":"admin","requests":...}
#include <spur/spur.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>

int main(int argc, char** argv) {
    spur::App app;
    std::atomic<long> requests{0};

    // Global middleware: code before next() runs on the way in, code after on the way out.
    app.use([&requests](spur::Request&, spur::Response& res, spur::Next next) -> spur::Task<> {
        auto start = std::chrono::steady_clock::now();
        ++requests;
        co_await next();
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        res.set("Server-Timing", "app;dur=" + std::to_string(ms));
    });

    // A guard: answer (and do not call next) to stop the chain; pass data on via locals.
    auto require_admin = [](spur::Request& req, spur::Response&, spur::Next next) -> spur::Task<> {
        if (req.header("Authorization") != "Bearer letmein")
            throw spur::HttpError(401, "unauthorized", "Admins only");
        req.locals().set("user", std::string("admin"));
        co_await next();
    };

    spur::Router admin;
    admin.use(require_admin);
    admin.get("/stats", [&requests](spur::Request& req, spur::Response& res) {
        res.json({{"user", *req.locals().get<std::string>("user")}, {"requests", requests.load()}});
    });
    app.mount("/admin", admin);
    app.get("/public", [](spur::Request&, spur::Response& res) { res.send("anyone may see this\n"); });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
