// Graceful shutdown with spur::Server: stop accepting, finish what is in flight, then exit.
// Run: ./graceful_shutdown [port]
//   curl localhost:3000/slow &   then   kill -TERM <pid>   -> the slow request still gets its answer
//   curl -X POST localhost:3000/shutdown                   -> the same, triggered over HTTP
#include <spur/spur.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    spur::App app;
    spur::Server* server = nullptr;  // set below, before any request can arrive

    app.get("/slow", [](spur::Request&, spur::Response& res) -> spur::Task<> {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, std::chrono::seconds(2));
        co_await timer.async_wait(boost::asio::use_awaitable);
        res.send("finished, even if a shutdown began meanwhile\n");
    });
    app.post("/shutdown", [&server](spur::Request&, spur::Response& res) {
        server->shutdown();  // drains: this response, and any other in flight, still go out
        res.status(202).json({{"status", "shutting down"}});
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    options.drain_timeout = std::chrono::seconds(10);  // in-flight requests get this long
    spur::Server s(app, options);
    server = &s;
    unsigned short port = s.start();
    std::fprintf(stderr, "listening on http://%s:%u\n", options.host.c_str(), port);
    s.run();  // returns once drained (SIGINT, SIGTERM or /shutdown)
    std::fprintf(stderr, "drained, bye\n");
    return 0;
}
