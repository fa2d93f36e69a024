// Error handling: expected failures as HttpError, unexpected ones as an opaque 500, and a
// custom error handler that renders HTML for browsers and JSON for everyone else.
// Run: ./errors [port]
//   curl localhost:3000/orders/0          -> 404 {"success":false,"error":{"code":"not_found",...}}
//   curl -H 'Accept: text/html' localhost:3000/orders/0   -> <h1>404</h1>...
//   curl localhost:3000/crash             -> 500, internals logged on the server, not sent
#include <spur/spur.hpp>

#include <cstdlib>
#include <stdexcept>

int main(int argc, char** argv) {
    spur::App app;

    app.get("/orders/:id", [](spur::Request& req, spur::Response& res) {
        if (req.param("id") == "0") throw spur::HttpError(404, "not_found", "No order 0");
        res.json({{"order", req.param("id")}});
    });
    app.get("/crash", [](spur::Request&, spur::Response&) {
        throw std::runtime_error("database password is hunter2");  // logged, never sent
    });

    // Sees every error, the router's 404/405 included. The default JSON body is already in
    // place, so rendering JSON needs no code at all.
    app.on_error([](spur::Request& req, spur::Response& res, const spur::HttpError& e) -> spur::Task<> {
        if (req.header("Accept").find("text/html") != std::string_view::npos)
            res.type("html").send("<h1>" + std::to_string(e.status()) + "</h1><p>" + e.message() + "</p>");
        co_return;
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
