// Error handling: expected failures as HttpError, unexpected ones as an opaque 500, and a
// custom error handler that renders HTML for browsers and JSON for everyone else.
// Run: ./errors [port]
//   curl localhost:3000/orders/0          -> 404 {"success":false,"error":{"code":"not_found",...}}
//   curl -H 'Accept: text/html' localhost:3000/orders/0   -> <h1>404</h1>...
//   curl -H 'Accept: text/html' localhost:3000/orders/%3Cb%3E -> ...No order &lt;b&gt;...
//   curl localhost:3000/crash             -> 500, internals logged on the server, not sent
#include <spur/spur.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

// Messages can carry what the client sent (a path, a field value): never put them into a
// page unescaped.
std::string escape_html(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

int main(int argc, char** argv) {
    spur::App app;

    app.get("/orders/:id", [](spur::Request& req, spur::Response& res) {
        auto id = req.param("id");
        if (id == "0" || id.find_first_not_of("0123456789") != std::string_view::npos)
            throw spur::HttpError(404, "No order " + std::string(id));  // code: "not_found"
        res.json({{"order", req.param("id")}});
    });
    app.get("/crash", [](spur::Request&, spur::Response&) {
        throw std::runtime_error("database password is hunter2");  // logged, never sent
    });

    // Sees every error, the router's 404/405 and the server's 413/431 included. The default
    // JSON body is already in place, so rendering JSON needs no code at all.
    app.on_error([](spur::Request& req, spur::Response& res, const spur::HttpError& e) -> spur::Task<> {
        if (req.header("Accept").find("text/html") != std::string_view::npos)
            res.type("html").send("<h1>" + std::to_string(e.status()) + "</h1><p>" + escape_html(e.message()) + "</p>");
        co_return;
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
