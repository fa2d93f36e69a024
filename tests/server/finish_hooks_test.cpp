// Finish hooks (access log, metrics) run after the response is written: they see the real
// bytes and duration, and a client that left before the end is recorded as 499.
#include <spur/app.hpp>
#include <spur/middleware/static_files.hpp>

#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>

using namespace spur;
using spur::test::RawConnection;
using spur::test::TestServer;

namespace {
struct Finished {
    int status = 0;
    std::uint64_t bytes = 0;
    double ms = 0;
};

class HookRecorder {
public:
    Middleware middleware() {
        return [this](Request& req, Response& res, Next next) -> Task<> {
            const auto start = std::chrono::steady_clock::now();
            res.on_finish([this, &req, start](Response& r) {
                std::lock_guard lock(mutex_);
                seen_[std::string(req.path())] = Finished{
                    r.status(), r.bytes_sent(),
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()};
            });
            co_await next();
        };
    }
    // The hook runs after the last byte left, so the client may be a moment ahead of it.
    std::optional<Finished> wait_for(const std::string& path) {
        std::optional<Finished> found;
        spur::test::eventually([&] {
            std::lock_guard lock(mutex_);
            if (auto it = seen_.find(path); it != seen_.end()) found = it->second;
            return found.has_value();
        });
        return found;
    }

private:
    std::mutex mutex_;
    std::map<std::string, Finished> seen_;
};

Task<> pause(std::chrono::milliseconds d) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
    co_await timer.async_wait(boost::asio::use_awaitable);
}
}  // namespace

TEST_CASE("finish hooks see bytes sent and the whole duration - buffered, streamed, static", "[server][finish][concurrency]") {
    auto dir = std::filesystem::temp_directory_path() / ("spur-finish-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "file.txt") << std::string(3000, 'f');

    App app;
    HookRecorder recorder;
    app.use(recorder.middleware());
    app.get("/files/*path", middleware::static_files(dir.string()));
    app.get("/buffered", [](Request&, Response& res) { res.send(std::string(1234, 'b')); });
    app.get("/streamed", [](Request&, Response& res) {
        res.stream([](BodyWriter& out) -> Task<> {
            for (int i = 0; i < 3; ++i) {
                co_await out.write(std::string(1000, 's'));
                co_await pause(std::chrono::milliseconds(60));
            }
        });
    });
    TestServer srv(app);

    auto buffered = spur::test::round_trip(srv.port(), "GET /buffered HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(buffered);
    auto b = recorder.wait_for("/buffered");
    REQUIRE(b);
    CHECK(b->status == 200);
    CHECK(b->bytes == 1234);

    auto streamed = spur::test::round_trip(srv.port(), "GET /streamed HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(streamed);
    CHECK(streamed->body().size() == 3000);
    auto s = recorder.wait_for("/streamed");
    REQUIRE(s);
    CHECK(s->bytes == 3000);
    CHECK(s->ms >= 150);  // the hook ran after the last chunk, not at the first byte

    auto file = spur::test::round_trip(srv.port(), "GET /files/file.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(file);
    CHECK(file->body().size() == 3000);
    auto f = recorder.wait_for("/files/file.txt");
    REQUIRE(f);
    CHECK(f->status == 200);
    CHECK(f->bytes == 3000);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a client that leaves mid-response is recorded as 499", "[server][finish][concurrency]") {
    App app;
    HookRecorder recorder;
    app.use(recorder.middleware());
    app.get("/endless", [](Request&, Response& res) {
        res.stream([](BodyWriter& out) -> Task<> {
            const std::string chunk(64 * 1024, 'e');
            for (int i = 0; i < 4096; ++i) {  // 256 MiB, far more than any socket buffer holds
                co_await out.write(chunk);
                if (i % 16 == 0) co_await pause(std::chrono::milliseconds(1));
            }
        });
    });
    TestServer srv(app);
    {
        RawConnection c(srv.port());
        c.send("GET /endless HTTP/1.1\r\nHost: t\r\n\r\n");
        char first[1024];
        REQUIRE(::recv(c.native_handle(), first, sizeof first, 0) > 0);
        // Leave with a reset, as a browser tab that is closed does.
        linger hard{1, 0};
        ::setsockopt(c.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    auto e = recorder.wait_for("/endless");
    REQUIRE(e);
    CHECK(e->status == 499);
    CHECK(e->bytes < 256u * 1024 * 1024);
}
