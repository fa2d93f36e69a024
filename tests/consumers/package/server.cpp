// A server built against the installed libspur-dev (reliability/package.sh builds it with CMake
// and with pkg-config): it serves one route on a real socket until SIGTERM.
// Run: ./server   then read its port from "listening on PORT" and GET /hello/NAME.
#include <spur/spur.hpp>
#ifdef SPUR_CONSUMER_MYSQL
#include <spur/mysql.hpp>
#endif

#include <cstdio>

int main() {
    spur::App app;
    app.get("/hello/:name", [](spur::Request& req, spur::Response& res) {
        std::string via = "pkg-config";
#ifdef SPUR_CONSUMER_MYSQL
        via = spur::mysql::parse_url("mysql://cmake:p@localhost/db").user;  // spur::mysql links too
#endif
        res.json({{"hello", req.param("name")}, {"via", via}});
    });
    spur::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    spur::Server server(app, options);
    std::printf("listening on %u\n", server.start());
    std::fflush(stdout);
    server.run();  // until SIGINT/SIGTERM, then drains and returns
}
