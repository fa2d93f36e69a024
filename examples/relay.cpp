// A backend in front of a model server: the model answers word by word (NDJSON lines) and
// /words relays each word to the browser as a server-sent event while it is produced. The
// model runs in this program too, on a port of its own, so the example needs nothing else.
// Run: ./relay [port]   then: curl -N localhost:3000/words
#include <spur/spur.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

namespace net = boost::asio;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    // The "model server": one word every 200 ms, as a language model streams tokens.
    spur::App model;
    model.get("/v1/words", [](spur::Request&, spur::Response& res) {
        res.type("application/x-ndjson").stream([](spur::BodyWriter& out) -> spur::Task<> {
            net::steady_timer pause(co_await net::this_coro::executor);
            for (const char* word : {"streams", "arrive", "word", "by", "word"}) {
                pause.expires_after(200ms);
                co_await pause.async_wait(net::use_awaitable);
                co_await out.write(std::string("{\"word\":\"") + word + "\"}\n");
            }
        });
    });
    spur::ServerOptions model_options;
    model_options.host = "127.0.0.1";
    model_options.port = 0;  // any free port
    model_options.handle_signals = false;
    spur::Server model_server(model, model_options);
    const std::string model_url = "http://127.0.0.1:" + std::to_string(model_server.start()) + "/v1/words";
    std::thread model_thread([&] { model_server.run(); });

    // One client for the whole program; a refused connection or a 503 is tried again twice.
    spur::HttpClientOptions options;
    options.retry.max_attempts = 3;
    spur::HttpClient client(options);

    spur::App app;
    app.get("/words", [&](spur::Request& req, spur::Response& res) -> spur::Task<> {
        // The call carries this request's trace and ends within 10 s.
        auto call = spur::call_from(req, 10s);
        auto upstream = co_await client.open("GET", model_url, {}, {}, call);
        if (upstream.status() != 200) throw spur::HttpError(502, "model_failed", "The model server failed");
        auto stream = std::make_shared<spur::ClientStream>(std::move(upstream));
        spur::sse(req, res, [stream](spur::EventStream& browser) -> spur::Task<> {
            // One line in, one event out: nothing piles up if the browser reads slowly, and a
            // browser that leaves cancels this loop, which closes the model's connection.
            while (auto line = co_await stream->next_line()) {
                spur::Event event;
                event.event = "word";
                event.data = *line;
                co_await browser.send(event);
            }
            spur::Event done;
            done.event = "done";
            done.data = "{}";
            co_await browser.send(done);
        });
    });

    app.listen(argc > 1 ? std::atoi(argv[1]) : 3000);  // until SIGINT/SIGTERM
    model_server.shutdown();
    model_thread.join();
}
