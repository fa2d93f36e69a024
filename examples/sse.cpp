// Server-sent events: a counter that ticks every second and resumes where a reconnecting
// browser left off (Last-Event-ID). On SIGTERM every open stream gets a "shutdown" event.
// Run: ./sse [port]   then open http://localhost:3000/ or: curl -N localhost:3000/events
#include <spur/spur.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <string>

namespace net = boost::asio;
using namespace std::chrono_literals;

constexpr const char* page = R"html(<!doctype html>
<meta charset="utf-8"><title>spur events</title>
<p>Count: <output id="n">…</output></p>
<script>
  const source = new EventSource("/events");
  source.addEventListener("tick", (e) => { document.getElementById("n").textContent = e.data; });
  source.addEventListener("shutdown", () => { document.getElementById("n").textContent += " (server restarting)"; });
</script>
)html";

int main(int argc, char** argv) {
    spur::App app;

    app.get("/", [](spur::Request&, spur::Response& res) { res.type("html").send(page); });

    app.get("/events", [](spur::Request& req, spur::Response& res) {
        spur::SseOptions options;
        options.retry = 2s;        // the browser reconnects after this
        options.keep_alive = 15s;  // a comment line keeps idle proxies from closing the stream
        spur::sse(req, res, options, [](spur::EventStream& stream) -> spur::Task<> {
            // Resume after the last event this client saw.
            long n = stream.last_event_id().empty() ? 0 : std::atol(std::string(stream.last_event_id()).c_str());
            net::steady_timer tick(co_await net::this_coro::executor);
            for (;;) {
                ++n;
                spur::Event event;
                event.event = "tick";
                event.id = std::to_string(n);
                event.data = std::to_string(n);
                co_await stream.send(event);  // waits while a slow client catches up
                tick.expires_after(1s);
                co_await tick.async_wait(net::use_awaitable);  // cancelled by a drain or a client leaving
            }
        });
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
