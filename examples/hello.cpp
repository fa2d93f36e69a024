// Hello world: one route, one parameter, JSON out.
// Run: ./hello [port]   then: curl localhost:3000/hello/world
#include <spur/spur.hpp>

#include <cstdlib>

int main(int argc, char** argv) {
    spur::App app;

    app.get("/", [](spur::Request&, spur::Response& res) { res.send("Hello from spur\n"); });

    app.get("/hello/:name", [](spur::Request& req, spur::Response& res) {
        res.json({{"hello", req.param("name")}});
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);  // until SIGINT/SIGTERM, then drains and returns
}
