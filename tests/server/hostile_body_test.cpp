// Request bodies under hostile load (issue #31, findings 1, 8 and 9): memory follows the
// bytes that arrived, never a declared length; a body nobody reads is not buffered; a
// process-wide budget answers 503 past it; transfers below the minimum rate are dropped,
// transfers above it are not cut off by a deadline; large JSON is parsed off the I/O thread.
#include <spur/server.hpp>

#include <spur/app.hpp>
#include <spur/contract/contract.hpp>

#include <boost/describe/class.hpp>
#include <spur/testing/client.hpp>

#include "support/blocking_hold.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace spur;
using spur::test::eventually;
using spur::test::RawConnection;
using spur::test::test_options;
using spur::test::TestServer;

namespace {
constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * 1024;

std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

std::string post(std::string_view path, std::size_t length, std::string_view extra = "") {
    return "POST " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) +
           "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

void add_size_route(App& app, std::size_t limit) {
    app.post("/upload", [](Request& req, Response& res) { res.send(std::to_string(req.body().size())); }).body_limit(limit);
}
}  // namespace

TEST_CASE("a declared Content-Length commits no memory: 200 clients declaring 1 MiB hold what they sent", "[server][body][hostile][concurrency]") {
    App app;
    add_size_route(app, 2 * MiB);
    TestServer srv(app);
    const std::size_t before = resident_bytes();

    constexpr std::size_t clients = 200;
    constexpr std::size_t sent = 20 * KiB;
    std::vector<std::unique_ptr<RawConnection>> open;
    for (std::size_t i = 0; i < clients; ++i) {
        open.push_back(std::make_unique<RawConnection>(srv.port()));
        open.back()->send(post("/upload", MiB) + std::string(sent, 'x'));
    }
    // Past its first (uncounted) 16 KiB a buffer grows by a chunk and counts 15-16 KiB: every
    // read is that far once the count says so.
    const bool all_there = eventually([&] { return srv.server().stats().buffered_body_bytes >= clients * 15 * KiB; });
    INFO("buffered " << srv.server().stats().buffered_body_bytes);
    REQUIRE(all_there);
    CHECK(srv.server().stats().buffered_body_bytes <= clients * 16 * KiB);  // not the declared megabyte
    // Before: 200 MiB resident (each body sized by its Content-Length at once).
    CHECK(resident_bytes() - std::min(before, resident_bytes()) < 64 * MiB);

    // The body still arrives whole for a client that sends it.
    open.front()->send(std::string(MiB - sent, 'y'));
    auto r = open.front()->read_response();
    REQUIRE(r);
    CHECK(r->result_int() == 200);
    CHECK(r->body() == std::to_string(MiB));
    open.clear();
    CHECK(eventually([&] { return srv.server().stats().buffered_body_bytes == 0; }));
}

TEST_CASE("a GET body nobody reads is not read: the answer comes at once and the connection closes", "[server][body][hostile][concurrency]") {
    App app;
    std::atomic<int> handled{0};
    app.get("/healthz", [&](Request&, Response& res) {
        ++handled;
        res.send("ok");
    });
    TestServer srv(app);

    SECTION("a large declared body, none of it sent") {
        RawConnection c(srv.port());
        c.send("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n");
        auto r = c.read_response();  // before: the server waited for the megabyte (body timeout)
        REQUIRE(r);
        CHECK(r->result_int() == 200);
        CHECK(r->body() == "ok");
        CHECK((*r)["Connection"] == "close");  // too much to drop cheaply
        CHECK(c.wait_closed());
        CHECK(srv.server().stats().buffered_body_bytes == 0);
    }
    SECTION("a small body is dropped as it arrives and the connection is kept") {
        RawConnection c(srv.port());
        c.send("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
        auto first = c.read_response();
        REQUIRE(first);
        CHECK(first->result_int() == 200);
        CHECK((*first)["Connection"] != "close");
        c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
        auto second = c.read_response();
        REQUIRE(second);
        CHECK(second->body() == "ok");
        CHECK(handled == 2);
    }
}

TEST_CASE("past max_buffered_body_bytes a body read answers 503 overloaded while the others go on", "[server][body][hostile][concurrency]") {
    App app;
    add_size_route(app, MiB);
    auto options = test_options();
    options.max_buffered_body_bytes = 256 * KiB;
    TestServer srv(app, options);

    RawConnection holder(srv.port());
    holder.send(post("/upload", 200 * KiB) + std::string(150 * KiB, 'a'));
    // 150 KiB arrived: a buffer of 162 KiB, of which all but the first 16 KiB count.
    REQUIRE(eventually([&] { return srv.server().stats().buffered_body_bytes >= 140 * KiB; }));
    const auto held = srv.server().stats().buffered_body_bytes;

    RawConnection late(srv.port());
    late.send(post("/upload", 200 * KiB));
    late.try_send(std::string(200 * KiB, 'b'));  // the server may close before it took all of it
    auto refused = late.read_response();
    REQUIRE(refused);
    CHECK(refused->result_int() == 503);
    CHECK(refused->body().find("\"overloaded\"") != std::string::npos);
    CHECK((*refused)["Retry-After"] == "1");
    CHECK((*refused)["Connection"] == "close");
    // The refused request gives its part back once its exchange ends.
    REQUIRE(eventually([&] { return srv.server().stats().buffered_body_bytes == held; }));

    holder.send(std::string(50 * KiB, 'a'));
    auto done = holder.read_response();
    REQUIRE(done);
    CHECK(done->result_int() == 200);
    CHECK(done->body() == std::to_string(200 * KiB));
    REQUIRE(eventually([&] { return srv.server().stats().buffered_body_bytes == 0; }));

    // With the budget free again the same upload goes through.
    RawConnection again(srv.port());
    again.send(post("/upload", 200 * KiB) + std::string(200 * KiB, 'c'));
    auto ok = again.read_response();
    REQUIRE(ok);
    CHECK(ok->result_int() == 200);
}

TEST_CASE("one client's uploads cannot take the whole budget, and small bodies never meet it", "[server][body][hostile][concurrency]") {
    App app;
    add_size_route(app, MiB);
    auto options = test_options();
    options.max_buffered_body_bytes = MiB;
    options.max_buffered_body_bytes_per_ip = 128 * KiB;
    TestServer srv(app, options);

    // 127.0.0.1 holds 90 KiB of a 100 KiB upload: 70 KiB or more of it counted.
    RawConnection hog(srv.port());
    hog.send(post("/upload", 100 * KiB) + std::string(90 * KiB, 'h'));
    REQUIRE(eventually([&] { return srv.server().stats().buffered_body_bytes >= 70 * KiB; }));

    // Its second upload passes its share: 503 for it...
    RawConnection more(srv.port());
    more.send(post("/upload", 100 * KiB));
    more.try_send(std::string(100 * KiB, 'm'));
    auto refused = more.read_response();
    REQUIRE(refused);
    CHECK(refused->result_int() == 503);
    // ...while another client's upload of the same size goes through,
    RawConnection other(srv.port(), std::chrono::milliseconds(5000), "127.0.0.2");
    other.send(post("/upload", 100 * KiB) + std::string(100 * KiB, 'o'));
    auto theirs = other.read_response();
    REQUIRE(theirs);
    CHECK(theirs->result_int() == 200);
    // ...and a small body of the hog's own (16 KiB or less is never counted) too.
    auto small = spur::test::round_trip(srv.port(), post("/upload", 10 * KiB) + std::string(10 * KiB, 's'));
    REQUIRE(small);
    CHECK(small->result_int() == 200);
    CHECK(small->body() == std::to_string(10 * KiB));
}

TEST_CASE("a body below min_transfer_rate is dropped, one above it may take longer than body_timeout", "[server][body][hostile][concurrency]") {
    App app;
    add_size_route(app, MiB);
    auto options = test_options();
    options.min_transfer_rate = 64 * KiB;
    options.body_timeout = std::chrono::milliseconds(300);
    TestServer srv(app, options);
    using namespace std::chrono_literals;

    SECTION("above the rate: 256 KiB at about 128 KiB/s, two seconds in all") {
        RawConnection c(srv.port());
        c.send(post("/upload", 256 * KiB));
        for (int i = 0; i < 32; ++i) {
            c.send(std::string(8 * KiB, 'x'));
            std::this_thread::sleep_for(60ms);  // the pace is the subject
        }
        auto r = c.read_response();  // before: dropped once the whole-body deadline passed
        REQUIRE(r);
        CHECK(r->result_int() == 200);
        CHECK(r->body() == std::to_string(256 * KiB));
    }
    SECTION("below the rate: 512 bytes every 50 ms (10 KiB/s) is dropped") {
        RawConnection c(srv.port(), 3000ms);
        c.send(post("/upload", 256 * KiB));
        bool sending = true;
        for (int i = 0; i < 60 && sending; ++i) {
            sending = c.try_send(std::string(512, 'x'));
            std::this_thread::sleep_for(50ms);  // the pace is the subject
        }
        CHECK(c.wait_closed());  // closed within the three seconds the test allows
    }
}

// Issue #31 review: the rate counted wire bytes, so 16 KB of chunk extension per 1-byte chunk
// kept a body "fast" while it advanced a byte a second.
TEST_CASE("chunk framing earns no time: a body that only sends chunk extensions is dropped", "[server][body][hostile][concurrency]") {
    App app;
    add_size_route(app, MiB);
    auto options = test_options();
    options.min_transfer_rate = 16 * KiB;
    options.body_timeout = std::chrono::milliseconds(300);
    TestServer srv(app, options);
    using namespace std::chrono_literals;
    RawConnection c(srv.port(), 3000ms);
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "1;a=" + std::string(4000, 'b') + "\r\nx\r\n";  // 4 KB on the wire, 1 byte of body
    bool sending = true;
    for (int i = 0; i < 150 && sending; ++i) {  // ~200 KB/s of wire for up to three seconds
        sending = c.try_send(chunk);
        std::this_thread::sleep_for(20ms);  // the pace is the subject
    }
    CHECK_FALSE(sending);  // the server closed on it while it was still sending
}

TEST_CASE("a reader below min_transfer_rate is dropped, a fast one gets the whole response", "[server][hostile][concurrency]") {
    App app;
    std::mutex mutex;
    std::condition_variable finished;
    std::vector<std::pair<int, std::uint64_t>> outcomes;  // status, body bytes sent
    const std::string big(32 * MiB, 'z');  // far beyond what loopback's socket buffers absorb
    app.get("/big", [&](Request&, Response& res) {
        res.on_finish([&](Response& r) {
            std::lock_guard lock(mutex);
            outcomes.emplace_back(r.status(), r.bytes_sent());
            finished.notify_all();
        });
        res.send(big);
    });
    auto options = test_options();
    options.min_transfer_rate = 2 * MiB;
    options.write_timeout = std::chrono::milliseconds(300);
    TestServer srv(app, options);
    using namespace std::chrono_literals;
    auto wait_outcome = [&] {
        std::unique_lock lock(mutex);
        REQUIRE(finished.wait_for(lock, 10s, [&] { return !outcomes.empty(); }));
        auto o = outcomes.back();
        outcomes.clear();
        return o;
    };

    SECTION("a slow reader: 64 KiB every 100 ms") {
        RawConnection c(srv.port(), 200ms);
        c.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
        const int fd = c.native_handle();
        std::vector<char> scratch(64 * KiB);
        bool open = true;
        for (int i = 0; i < 100 && open; ++i) {  // 10 s at most
            const auto n = ::recv(fd, scratch.data(), scratch.size(), 0);
            open = n > 0;
            std::this_thread::sleep_for(100ms);  // the pace is the subject
            std::lock_guard lock(mutex);
            if (!outcomes.empty()) break;
        }
        auto [status, sent] = wait_outcome();
        CHECK(status == 499);
        CHECK(sent < big.size());
    }
    SECTION("a reader that keeps up") {
        RawConnection c(srv.port());
        c.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->body().size() == big.size());
        auto [status, sent] = wait_outcome();
        CHECK(status == 200);
        CHECK(sent == big.size());
    }
}

TEST_CASE("a JSON body of 256 KiB or more is parsed on the blocking pool, not on the I/O thread", "[server][body][hostile][concurrency]") {
    App app;
    spur::test::BlockingHold hold;
    hold.route(app);
    app.post("/json", [](Request& req, Response& res) { res.json({{"items", req.json().as_object().at("items").as_array().size()}}); })
        .body_limit(4 * MiB);
    auto options = test_options();
    options.max_blocking_queue = 1;  // one job at a time: /hold takes the only slot
    TestServer srv(app, options);

    std::string items = "{\"items\":[";
    while (items.size() < 300 * KiB) items += "\"0123456789abcdef\",";
    items.back() = ']';
    items += '}';
    auto send_json = [&](const std::string& body) {
        auto r = spur::test::round_trip(srv.port(), post("/json", body.size(), "Content-Type: application/json\r\n") + body);
        REQUIRE(r);
        return *r;
    };

    RawConnection holder(srv.port());
    holder.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    REQUIRE(hold.wait_held());
    // The pool is full: the large body's parse cannot be queued; a small one parses inline.
    auto large = send_json(items);
    CHECK(large.result_int() == 503);
    CHECK(large.body().find("\"overloaded\"") != std::string::npos);
    auto small = send_json("{\"items\":[1,2,3]}");
    CHECK(small.result_int() == 200);
    CHECK(small.body() == "{\"items\":3}");
    hold.release();
    auto held = holder.read_response();
    REQUIRE(held);
    CHECK(held->body() == "released");
    auto parsed = send_json(items);
    CHECK(parsed.result_int() == 200);
    CHECK(parsed.body().find("{\"items\":") == 0);
}

namespace {
struct Search {
    std::string q;
};
BOOST_DESCRIBE_STRUCT(Search, (), (q))

App get_body_app() {
    App app;
    app.get("/typed", [](Request&, Response& res, Body<Search> in) { res.send(in->q); });
    app.get("/asks", [](Request& req, Response& res) -> Task<> {
        co_await req.read_body();
        res.send(req.body());
    });
    app.get("/ignores", [](Request& req, Response& res) { res.send(std::to_string(req.body().size())); });
    return app;
}
}  // namespace

TEST_CASE("a GET body is read for a typed Body<T> or when the handler asks, on the wire and in the test client alike", "[server][body][hostile][concurrency]") {
    App app = get_body_app();
    auto get = [](std::string_view path) {
        return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"q\":\"find\"}";
    };
    {
        TestServer srv(app);
        for (auto [path, expected] : {std::pair{"/typed", "find"}, {"/asks", "{\"q\":\"find\"}"}, {"/ignores", "0"}}) {
            INFO(path);
            auto r = spur::test::round_trip(srv.port(), get(path));
            REQUIRE(r);
            CHECK(r->result_int() == 200);
            CHECK(r->body() == expected);
        }
    }
    testing::Client client(app);
    const testing::Headers json{{"Content-Type", "application/json"}};
    CHECK(client.request("GET", "/typed", "{\"q\":\"find\"}", json).body == "find");
    CHECK(client.request("GET", "/asks", "{\"q\":\"find\"}", json).body == "{\"q\":\"find\"}");
    CHECK(client.request("GET", "/ignores", "{\"q\":\"find\"}", json).body == "0");
}

// Issue #31 review: a JSON body of small numbers is 8x its size as a tree; uncounted, one
// client's 8 MiB posts held over a gigabyte. The tree is counted with its body now.
TEST_CASE("a parsed JSON tree is counted with its body in the client's share of the budget", "[server][body][hostile][concurrency]") {
    App app;
    app.post("/json", [](Request& req, Response& res) { res.json({{"type", req.json().is_array() ? "array" : "object"}}); })
        .body_limit(MiB);
    std::string numbers = "[";
    while (numbers.size() < 300 * KiB) numbers += "0,";
    numbers.back() = ']';  // 150,000 values: 2.4 MiB as a tree
    auto send = [&](unsigned short port) {
        auto r = spur::test::round_trip(port, post("/json", numbers.size(), "Content-Type: application/json\r\n") + numbers);
        REQUIRE(r);
        return *r;
    };
    auto options = test_options();
    options.max_buffered_body_bytes_per_ip = 2 * MiB;
    {
        TestServer srv(app, options);
        auto refused = send(srv.port());
        CHECK(refused.result_int() == 503);
        CHECK(refused.body().find("\"overloaded\"") != std::string::npos);
        const bool released = eventually([&] { return srv.server().stats().buffered_body_bytes == 0; });
        INFO("buffered " << srv.server().stats().buffered_body_bytes);
        CHECK(released);
    }
    options.max_buffered_body_bytes_per_ip = 16 * MiB;
    TestServer srv(app, options);
    auto parsed = send(srv.port());
    CHECK(parsed.result_int() == 200);
    CHECK(parsed.body() == "{\"type\":\"array\"}");
    const bool released = eventually([&] { return srv.server().stats().buffered_body_bytes == 0; });
    INFO("buffered " << srv.server().stats().buffered_body_bytes);
    CHECK(released);
}
