// HttpClient's retries and deadlines against spur servers and hand-made peers on real loopback
// sockets: what is retried (refused connections, resets, 502/503/504, Retry-After), what never
// is (a plain POST), and a deadline that bounds every attempt and every wait.
#include <spur/http_client.hpp>

#include <spur/app.hpp>

#include "client/harness.hpp"
#include "client/retry.hpp"
#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <sys/socket.h>

using namespace spur;
using namespace std::chrono_literals;
using Kind = HttpClientError::Kind;
namespace net = boost::asio;
using test::Io;
using test::run;
using Clock = std::chrono::steady_clock;

namespace {

// Hits per ?key=, so each check counts its own attempts.
struct Hits {
    std::mutex mutex;
    std::map<std::string, int> by_key;
    int add(std::string_view key) {
        std::lock_guard lock(mutex);
        return ++by_key[std::string(key)];
    }
    int of(const std::string& key) {
        std::lock_guard lock(mutex);
        return by_key[key];
    }
};

App retry_service(Hits& hits) {
    App app(AppOptions{.log = [](LogLevel, std::string_view) {}});
    // The first ?fail= hits answer ?status= (503 by default), then 200 with the hit's number.
    auto flaky = [&hits](Request& req, Response& res) {
        const int n = hits.add(req.query("key").value_or(""));
        const int fail = std::stoi(std::string(req.query("fail").value_or("0")));
        if (n <= fail) {
            if (auto after = req.query("retry_after")) res.set("Retry-After", *after);
            return void(res.status(std::stoi(std::string(req.query("status").value_or("503")))).send("busy"));
        }
        res.json({{"hit", n}});
    };
    app.get("/flaky", flaky);
    app.post("/flaky", flaky);
    app.get("/first-then-wait", [](Request&, Response& res) {
        res.stream([](BodyWriter& w) -> Task<> {
            co_await w.write("first");
            net::steady_timer t(co_await net::this_coro::executor, 30s);
            co_await t.async_wait(net::use_awaitable);
        });
    });
    return app;
}

// Accepts connections: closes the first `resets` right after reading their request (a reset
// before any answer), then answers 200 "ok" and closes.
struct ResettingPeer {
    net::io_context io;
    net::ip::tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
    std::atomic<int> accepted{0};
    std::thread thread;
    explicit ResettingPeer(int resets) {
        thread = std::thread([this, resets] {
            for (;;) {
                boost::system::error_code ec;
                auto s = acceptor.accept(ec);
                if (ec) return;
                const int n = ++accepted;
                char request[4096];
                s.read_some(net::buffer(request), ec);
                if (n <= resets) {
                    s.set_option(net::socket_base::linger(true, 0), ec);  // RST, not FIN
                    s.close(ec);
                    continue;
                }
                const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
                net::write(s, net::buffer(answer), ec);
            }
        });
    }
    ~ResettingPeer() {
        ::shutdown(acceptor.native_handle(), SHUT_RDWR);
        acceptor.close();
        thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/"; }
};

RetryPolicy quick(int attempts) {
    RetryPolicy p;
    p.max_attempts = attempts;
    p.initial_backoff = 20ms;
    p.max_backoff = 100ms;
    return p;
}

Kind kind_of(Task<ClientResponse> call) {
    try {
        run(std::move(call));
    } catch (const HttpClientError& e) {
        return e.kind();
    }
    FAIL("the call did not fail");
    return Kind::protocol;
}

}  // namespace

TEST_CASE("a GET answered 502, 503 or 504 is tried again up to max_attempts, with the client's or the call's policy",
          "[client][client_retry]") {
    Hits hits;
    App app = retry_service(hits);
    test::TestServer srv(app);
    Io io;
    const auto base = "http://127.0.0.1:" + std::to_string(srv.port());
    HttpClient client(HttpClientOptions{.retry = quick(3)});
    auto r = run(client.get(base + "/flaky?key=a&fail=2"));
    CHECK(r.status == 200);
    CHECK(r.json().at("hit") == 3);
    for (const char* status : {"502", "504"}) {
        const std::string key = std::string("s") + status;
        CHECK(run(client.get(base + "/flaky?key=" + key + "&fail=1&status=" + status)).status == 200);
        CHECK(hits.of(key) == 2);
    }
    // Out of attempts: the last answer is returned as it is.
    r = run(client.get(base + "/flaky?key=b&fail=5"));
    CHECK(r.status == 503);
    CHECK(hits.of("b") == 3);
    // A 500 is not in the policy's statuses: once.
    CHECK(run(client.get(base + "/flaky?key=c&fail=5&status=500")).status == 500);
    CHECK(hits.of("c") == 1);
    // The default policy tries once; a call may ask for more.
    HttpClient plain;
    CHECK(run(plain.get(base + "/flaky?key=d&fail=1")).status == 503);
    CHECK(hits.of("d") == 1);
    CHECK(run(plain.get(base + "/flaky?key=e&fail=1", {}, CallOptions().retry(quick(2)))).status == 200);
    CHECK(hits.of("e") == 2);
}

TEST_CASE("a POST is never sent twice unless it carries an Idempotency-Key", "[client][client_retry]") {
    Hits hits;
    App app = retry_service(hits);
    test::TestServer srv(app);
    Io io;
    const auto base = "http://127.0.0.1:" + std::to_string(srv.port());
    HttpClient client(HttpClientOptions{.retry = quick(3)});
    CHECK(run(client.request("POST", base + "/flaky?key=p&fail=1", "{}")).status == 503);
    CHECK(hits.of("p") == 1);
    auto r = run(client.request("POST", base + "/flaky?key=k&fail=1", "{}", {{"Idempotency-Key", "order-17"}}));
    CHECK(r.status == 200);
    CHECK(hits.of("k") == 2);

    // A reset before any answer: a GET goes again, a plain POST fails, a keyed POST goes again.
    ResettingPeer get_peer(1);
    CHECK(run(client.get(get_peer.url())).body == "ok");
    CHECK(get_peer.accepted == 2);
    ResettingPeer post_peer(1);
    CHECK(kind_of(client.request("POST", post_peer.url(), "x")) == Kind::protocol);
    CHECK(post_peer.accepted == 1);
    ResettingPeer keyed_peer(1);
    CHECK(run(client.request("POST", keyed_peer.url(), "x", {{"Idempotency-Key", "k2"}})).body == "ok");
    CHECK(keyed_peer.accepted == 2);
}

TEST_CASE("Retry-After replaces the backoff, up to max_retry_after", "[client][client_retry]") {
    Hits hits;
    App app = retry_service(hits);
    test::TestServer srv(app);
    Io io;
    const auto base = "http://127.0.0.1:" + std::to_string(srv.port());
    HttpClient client(HttpClientOptions{.retry = quick(3)});
    const auto start = Clock::now();
    CHECK(run(client.get(base + "/flaky?key=ra&fail=1&retry_after=1")).status == 200);
    CHECK(Clock::now() - start >= 1s);  // the server's second, not the policy's 20 ms
    CHECK(hits.of("ra") == 2);
    // Two minutes is past max_retry_after (5 s): the 503 comes back at once.
    const auto again = Clock::now();
    auto r = run(client.get(base + "/flaky?key=long&fail=1&retry_after=120"));
    CHECK(r.status == 503);
    CHECK(r.header("Retry-After") == "120");
    CHECK(hits.of("long") == 1);
    CHECK(Clock::now() - again < 1s);
}

TEST_CASE("a refused connection is retried with backoff, then fails as connect", "[client][client_retry]") {
    Io io;
    RetryPolicy policy = quick(3);
    policy.initial_backoff = 100ms;
    policy.max_backoff = 1s;
    HttpClient client(HttpClientOptions{.retry = policy});
    const auto start = Clock::now();
    CHECK(kind_of(client.get("http://127.0.0.1:" + std::to_string(test::free_port()) + "/")) == Kind::connect);
    // Two waits: at least half of 100 ms, then half of 200 ms.
    CHECK(Clock::now() - start >= 150ms);
}

TEST_CASE("a call's deadline covers every attempt and every wait between them", "[client][client_retry]") {
    Hits hits;
    App app = retry_service(hits);
    test::TestServer srv(app);
    Io io;
    const auto base = "http://127.0.0.1:" + std::to_string(srv.port());
    RetryPolicy patient = quick(50);
    patient.initial_backoff = 100ms;
    patient.max_backoff = 100ms;
    HttpClient client(HttpClientOptions{.retry = patient});
    // Always 503: the deadline stops the retries and the last answer is returned.
    auto start = Clock::now();
    auto r = run(client.get(base + "/flaky?key=dl&fail=1000", {}, CallOptions().timeout(400ms)));
    CHECK(r.status == 503);
    CHECK(Clock::now() - start < 2s);
    CHECK(hits.of("dl") >= 2);
    CHECK(hits.of("dl") < 50);

    // A peer that never answers, a 30 s per-attempt timeout: the deadline ends it.
    net::io_context peer_io;
    net::ip::tcp::acceptor silent(peer_io, {net::ip::make_address("127.0.0.1"), 0});  // connects, never answers
    start = Clock::now();
    try {
        run(client.get("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/", {},
                       CallOptions().timeout(300ms)));
        FAIL("the call did not fail");
    } catch (const HttpClientError& e) {
        CHECK(e.kind() == Kind::timeout);
        CHECK(std::string(e.what()).find("deadline") != std::string::npos);
    }
    CHECK(Clock::now() - start < 2s);

    // The deadline bounds reading a stream too.
    std::optional<Kind> kind;
    start = Clock::now();
    run([&]() -> Task<> {
        auto stream = co_await client.open("GET", base + "/first-then-wait", {}, {}, CallOptions().timeout(300ms));
        const auto first = co_await stream.next_chunk();  // not inside CHECK: GCC 12 would await it twice
        CHECK(first == "first");
        try {
            co_await stream.next_chunk();
        } catch (const HttpClientError& e) {
            kind = e.kind();
        }
    }());
    CHECK(kind == Kind::timeout);
    CHECK(Clock::now() - start < 2s);
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date, and backoff doubles within its bounds", "[client][client_retry]") {
    using client::retry_after;
    CHECK(retry_after("3") == std::chrono::milliseconds(3000));
    CHECK(retry_after(" 0 ") == std::chrono::milliseconds(0));
    CHECK(retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == std::chrono::milliseconds(0));  // in the past
    const auto later = retry_after("Fri, 01 Jan 2100 00:00:00 GMT");
    REQUIRE(later);
    CHECK(*later >= std::chrono::hours(24 * 365));
    // Past system_clock's range (2262): still far away, not wrapped into the past.
    CHECK(retry_after("Fri, 31 Dec 9999 23:59:59 GMT") >= std::chrono::hours(24 * 365));
    CHECK_FALSE(retry_after(""));
    CHECK_FALSE(retry_after("-1"));
    CHECK_FALSE(retry_after("soon"));
    CHECK_FALSE(retry_after("Wed, 21 Oct 2015 07:28:00 GMT trailing"));

    RetryPolicy p;
    p.initial_backoff = 100ms;
    p.max_backoff = 300ms;
    for (int i = 0; i < 20; ++i) {
        const auto first = client::backoff(p, 1), second = client::backoff(p, 2), fifth = client::backoff(p, 5);
        CHECK((first >= 50ms && first <= 100ms));
        CHECK((second >= 100ms && second <= 200ms));
        CHECK((fifth >= 150ms && fifth <= 300ms));
    }
    CHECK(client::may_repeat("GET", {}));
    CHECK(client::may_repeat("PUT", {}));
    CHECK_FALSE(client::may_repeat("POST", {}));
    CHECK_FALSE(client::may_repeat("PATCH", {{"Idempotency-Key", ""}}));
    CHECK(client::may_repeat("PATCH", {{"idempotency-key", "x"}}));
}
