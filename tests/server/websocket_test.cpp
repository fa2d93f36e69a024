#include <spur/websocket.hpp>

#include <spur/websocket_room.hpp>

#include "support/flag.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"
#include "support/quiet_app.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

using spur::App;
using spur::Request;
using spur::Response;
using spur::Task;
using spur::WebSocket;
using spur::test::eventually;
using spur::test::RawConnection;
using spur::test::TestServer;
using spur::test::WsClient;

namespace {

using spur::test::quiet_app;

using spur::test::upgrade_request;

}  // namespace

TEST_CASE("websocket echo of text and binary messages", "[server][websocket][concurrency]") {
    App app = quiet_app();
    app.ws("/echo", spur::test::echo_messages);
    TestServer srv(app);
    WsClient c(srv.port(), "/echo");
    CHECK(c.response().result_int() == 101);
    CHECK(c.response()["Server"] == "spur");
    c.send("hello");
    CHECK(c.read() == "hello");
    CHECK_FALSE(c.got_binary());
    std::string bytes("\x00\x01\xff", 3);
    c.send(bytes, true);
    CHECK(c.read() == bytes);
    CHECK(c.got_binary());
    c.close();
}

TEST_CASE("websocket route params and middleware apply before the upgrade", "[server][websocket][concurrency]") {
    App app = quiet_app();
    auto guard = [](Request& req, Response& res, spur::Next next) -> Task<> {
        if (req.header("Authorization") != "Bearer ok") throw spur::HttpError(401, "unauthorized", "no");
        res.set("X-Checked", "yes");
        co_await next();
    };
    app.ws("/chat/:room", guard, [](WebSocket& ws) -> Task<> {
        co_await ws.send("room " + std::string(ws.param("room")));
    });
    TestServer srv(app);

    SECTION("allowed: params reach the handler, middleware headers reach the 101") {
        WsClient c(srv.port(), "/chat/lobby", "Bearer ok");
        CHECK(c.response()["X-Checked"] == "yes");
        CHECK(c.read() == "room lobby");
        CHECK(c.read_until_closed() == 1000);  // the handler returned
    }
    SECTION("refused by middleware: a normal 401, no upgrade") {
        auto r = spur::test::round_trip(srv.port(), upgrade_request("/chat/lobby"));
        REQUIRE(r);
        CHECK(r->result_int() == 401);
    }
    SECTION("a plain GET on a ws route gets 426 Upgrade Required") {
        auto r = spur::test::round_trip(srv.port(), "GET /chat/lobby HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\n\r\n");
        REQUIRE(r);
        CHECK(r->result_int() == 426);
        CHECK((*r)["Upgrade"] == "websocket");
    }
    SECTION("an unsupported Sec-WebSocket-Version gets 426 naming version 13, then the connection closes") {
        std::string req = upgrade_request("/chat/lobby", "Authorization: Bearer ok\r\n");
        req.replace(req.find("Version: 13"), 11, "Version: 99");
        RawConnection c(srv.port());
        c.send(req);
        auto r = c.read_response();
        REQUIRE(r);
        CHECK(r->result_int() == 426);  // RFC 6455 §4.4
        CHECK((*r)["Sec-WebSocket-Version"] == "13");
        CHECK(c.wait_closed());
    }
    SECTION("a handshake that carries a body gets 400 upgrade_with_body, whether the body is here yet or not") {
        for (const bool body_sent : {true, false}) {
            CAPTURE(body_sent);
            RawConnection c(srv.port());
            c.send(upgrade_request("/chat/lobby", "Authorization: Bearer ok\r\nContent-Length: 5\r\n") +
                   (body_sent ? "hello" : ""));
            auto r = c.read_response();
            REQUIRE(r);
            CHECK(r->result_int() == 400);
            CHECK(r->body().find("\"upgrade_with_body\"") != std::string::npos);
        }
        auto chunked = spur::test::round_trip(
            srv.port(), upgrade_request("/chat/lobby", "Authorization: Bearer ok\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n");
        REQUIRE(chunked);
        CHECK(chunked->result_int() == 400);
    }
}

TEST_CASE("websocket room broadcast reaches every member across I/O threads", "[server][websocket][concurrency]") {
    App app = quiet_app();
    spur::WsRoom room;
    app.ws("/room", [&room](WebSocket& ws) -> Task<> {
        room.join(ws.peer());
        co_await ws.send("joined");
        while (auto m = co_await ws.receive()) room.broadcast(m->data, ws.peer());
        room.leave(ws.peer());
    });
    TestServer srv(app);  // two I/O threads
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<WsClient>(srv.port(), "/room"));
        REQUIRE(clients.back()->read() == "joined");
    }
    CHECK(room.size() == 4);
    clients[0]->send("hi from 0");
    for (int i = 1; i < 4; ++i) CHECK(clients[i]->read() == "hi from 0");
    clients[2]->send("hi from 2");
    CHECK(clients[0]->read() == "hi from 2");
    CHECK(clients[3]->read() == "hi from 2");
    clients[1]->close();
    CHECK(eventually([&] { return room.size() == 3; }));
}

TEST_CASE("websocket message over the size limit closes with 1009", "[server][websocket][concurrency]") {
    App app = quiet_app();
    app.ws("/echo", spur::test::echo_messages);
    auto options = spur::test::test_options();
    options.websocket.max_message_bytes = 1024;
    TestServer srv(app, options);
    WsClient c(srv.port(), "/echo");
    c.send(std::string(1024, 'a'));
    CHECK(c.read() == std::string(1024, 'a'));
    c.send(std::string(2048, 'b'));
    CHECK(c.read_until_closed() == 1009);
}

TEST_CASE("websocket client vanishing without a close frame ends its handler", "[server][websocket][concurrency]") {
    App app = quiet_app();
    std::atomic<int> ended{0};
    spur::WsRoom room;
    app.ws("/room", [&](WebSocket& ws) -> Task<> {
        room.join(ws.peer());
        co_await ws.send("joined");
        while (co_await ws.receive()) {
        }
        ++ended;
    });
    TestServer srv(app);
    {
        WsClient c(srv.port(), "/room");
        REQUIRE(c.read() == "joined");
        c.abort();
    }
    CHECK(eventually([&] { return ended.load() == 1; }));
    // The session leaves the room as it winds down, just after the handler returns.
    CHECK(eventually([&] { return room.broadcast("anyone?") == 0; }));
    WsClient again(srv.port(), "/room");  // the server is unharmed
    CHECK(again.read() == "joined");
}

TEST_CASE("websocket send waits for a slow reader instead of buffering without bound", "[server][websocket][concurrency]") {
    App app = quiet_app();
    std::atomic<int> sent{0};
    const std::string chunk(64 * 1024, 'x');
    app.ws("/flood", [&](WebSocket& ws) -> Task<> {
        for (int i = 0; i < 400; ++i) {  // 25 MiB in all
            if (!co_await ws.send(chunk)) co_return;
            ++sent;
        }
    });
    auto options = spur::test::test_options();
    options.websocket.max_send_queue_bytes = 256 * 1024;
    TestServer srv(app, options);
    WsClient c(srv.port(), "/flood");
    // Parked: the count moved, then held still for 200 ms while the client read nothing (that
    // quiet time is the subject; the wait ends as soon as it has passed).
    int parked = 0;
    auto moved = std::chrono::steady_clock::now();
    REQUIRE(eventually([&] {
        const int now = sent.load();
        if (now != parked) {
            parked = now;
            moved = std::chrono::steady_clock::now();
        }
        return parked > 0 && std::chrono::steady_clock::now() - moved >= std::chrono::milliseconds(200);
    }));
    // Socket buffers and the 256 KiB queue hold a few MiB at most; the handler is parked.
    CHECK(parked < 100);
    for (int i = 0; i < 400; ++i) REQUIRE(c.read() == chunk);
    CHECK(sent.load() == 400);
}

TEST_CASE("websocket room drops a member whose queue overflows", "[server][websocket][concurrency]") {
    App app = quiet_app();
    spur::WsRoom room;
    app.ws("/room", [&room](WebSocket& ws) -> Task<> {
        room.join(ws.peer());
        co_await ws.send("joined");
        while (co_await ws.receive()) {
        }
    });
    auto options = spur::test::test_options();
    options.websocket.max_send_queue_bytes = 256 * 1024;
    TestServer srv(app, options);
    WsClient slow(srv.port(), "/room");  // never reads after this
    REQUIRE(slow.read() == "joined");
    const std::string chunk(64 * 1024, 'y');
    // Far more than its queue holds; the drop itself happens on the member's I/O thread.
    for (int i = 0; i < 400 && room.size() > 0; ++i) room.broadcast(chunk);
    CHECK(eventually([&] { return room.size() == 0; }));
}

TEST_CASE("graceful shutdown closes websockets with 1001", "[server][websocket][concurrency]") {
    App app = quiet_app();
    app.ws("/echo", spur::test::echo_messages);
    TestServer srv(app);
    WsClient a(srv.port(), "/echo");
    WsClient b(srv.port(), "/echo");
    a.send("ping");
    REQUIRE(a.read() == "ping");
    auto started = std::chrono::steady_clock::now();
    std::thread stopper([&] { srv.stop(); });
    CHECK(a.read_until_closed() == 1001);
    CHECK(b.read_until_closed() == 1001);
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("websocket idle timeout: pings keep a reading client, a silent one is dropped", "[server][websocket][concurrency]") {
    App app = quiet_app();
    auto posted = std::make_shared<spur::test::Flag>();  // shared: the thread may outlive a failed test
    app.ws("/late", [posted](WebSocket& ws) -> Task<> {
        // Three idle timeouts from now, from another thread; the handler only reads.
        std::thread([peer = ws.peer(), posted] {
            std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // the idle timeouts are the subject
            peer.post("still here");
            posted->raise();
        }).detach();
        while (co_await ws.receive()) {
        }
    });
    auto options = spur::test::test_options();
    options.websocket.idle_timeout = std::chrono::milliseconds(400);
    TestServer srv(app, options);

    SECTION("a client that reads answers the pings and outlives the idle timeout") {
        WsClient c(srv.port(), "/late");
        CHECK(c.read() == "still here");
    }
    SECTION("a client that never reads leaves the pings unanswered and is disconnected") {
        WsClient c(srv.port(), "/late");
        // The client reads nothing until the server has dropped it.
        CHECK(eventually([&] { return srv.server().stats().open_connections == 0; }));
        CHECK_FALSE(c.read());
    }
    CHECK(posted->wait());  // the posting thread is done with the session before the server goes
}
