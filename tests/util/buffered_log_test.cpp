#include <spur/buffered_log.hpp>

#include <spur/app.hpp>
#include <spur/middleware/access_log.hpp>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "support/test_server.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

using namespace spur;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// A file the test writes through a descriptor and reads back whole.
struct TempFile {
    std::filesystem::path path;
    int fd;
    explicit TempFile(const std::string& tag)
        : path(std::filesystem::temp_directory_path() / ("spur-blog-" + tag + "-" + std::to_string(::getpid()))),
          fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {
        REQUIRE(fd >= 0);
    }
    ~TempFile() {
        ::close(fd);
        std::filesystem::remove(path);
    }
    std::string text() const {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
};

// A pipe whose reader does not read until told: a destination that stalls.
struct StalledPipe {
    int read_end = -1, write_end = -1;
    StalledPipe() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        read_end = fds[0];
        write_end = fds[1];
        // The smallest pipe, filled: the writer's next write blocks until someone reads.
        const int size = ::fcntl(write_end, F_SETPIPE_SZ, 4096);
        REQUIRE(size > 0);
        const std::string fill(static_cast<std::size_t>(size), 'x');
        REQUIRE(::write(write_end, fill.data(), fill.size()) == static_cast<ssize_t>(fill.size()));
        filler = fill.size();
    }
    ~StalledPipe() {
        if (read_end >= 0) ::close(read_end);
        if (write_end >= 0) ::close(write_end);
    }
    // Everything until every writer has closed its end; the filler left out.
    std::string read_all() {
        std::string out;
        char buf[65536];
        for (ssize_t n; (n = ::read(read_end, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
        return out.substr(std::min(filler, out.size()));
    }
    std::size_t filler = 0;
};

std::string payload(int thread, int n) { return "t" + std::to_string(thread) + " n" + std::to_string(n) + " " + std::string(40, static_cast<char>('a' + thread % 26)); }

}  // namespace

TEST_CASE("lines of many threads all reach the file, whole and in each thread's order", "[util][buffered_log][concurrency]") {
    TempFile file("threads");
    constexpr int threads = 8, per_thread = 5000;
    {
        BufferedLogOptions o;
        o.fd = file.fd;
        BufferedLog log(o);
        std::vector<std::thread> writers;
        for (int t = 0; t < threads; ++t)
            writers.emplace_back([&log, t] {
                for (int n = 0; n < per_thread; ++n) log.write(payload(t, n));
            });
        for (auto& w : writers) w.join();
        CHECK(log.dropped() == 0);
    }  // the destructor writes what is left
    const auto lines = split_lines(file.text());
    REQUIRE(lines.size() == threads * per_thread);
    std::map<int, int> next;
    for (const auto& line : lines) {
        int t = -1, n = -1;
        REQUIRE(std::sscanf(line.c_str(), "t%d n%d", &t, &n) == 2);
        REQUIRE(line == payload(t, n));  // whole, nothing of another line inside
        REQUIRE(n == next[t]++);
    }
}

TEST_CASE("a busy writer keeps its backlog near one linger's lines", "[util][buffered_log]") {
    // One thread appending ~60,000 lines a second, as a busy I/O thread does, for 3 s. The
    // writer comes back every linger (10 ms: ~50 KB). It once slept through a lost wake-up
    // until the backlog reached half of max_bytes (4 MiB by default); here max_bytes is large,
    // so such a stall shows as megabytes waiting rather than as a burst at half-full.
    const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    BufferedLogOptions o;
    o.fd = fd;
    o.max_bytes = std::size_t{256} << 20;
    std::size_t most = 0;
    {
        BufferedLog log(o);
        auto sink = log.line_sink();
        const std::string line(79, 'x');
        const auto end = std::chrono::steady_clock::now() + 3s;
        while (std::chrono::steady_clock::now() < end) {
            for (int i = 0; i < 16; ++i) sink(line);
            const auto spin = std::chrono::steady_clock::now() + 200us;
            while (std::chrono::steady_clock::now() < spin) {
            }
            most = std::max(most, log.buffered_bytes());
        }
        CHECK(log.dropped() == 0);
    }
    ::close(fd);
    // A stall of a quarter second would leave ~1.2 MB waiting; the writer's own bound on
    // sleeping through a lost wake-up is 50 ms.
    CHECK(most < std::size_t{1} << 20);
}

TEST_CASE("flush returns once every earlier line is in the file", "[util][buffered_log]") {
    TempFile file("flush");
    BufferedLogOptions o;
    o.fd = file.fd;
    o.linger = 10s;  // flush does not wait for the linger
    BufferedLog log(o);
    log.write("first");
    log.write("second");
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(log.flush(5s));
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(file.text() == "first\nsecond\n");
    CHECK(log.buffered_bytes() == 0);
}

TEST_CASE("with a reader that stalls, writers never wait, the bound holds, drops are counted and reported", "[util][buffered_log]") {
    StalledPipe pipe;
    BufferedLogOptions o;
    o.fd = pipe.write_end;
    o.max_bytes = 16 * 1024;
    o.close_timeout = 5s;
    std::optional<BufferedLog> log(std::in_place, o);
    // 5 MB through a pipe nobody reads: a synchronous writer would block at the first line.
    constexpr int total = 50'000;
    std::size_t most = 0;
    for (int n = 0; n < total; ++n) {
        log->write(payload(0, n) + std::string(50, '.'));
        most = std::max(most, log->buffered_bytes());
    }
    CHECK(most <= o.max_bytes);
    const std::uint64_t dropped = log->dropped();
    CHECK(dropped > 0);
    CHECK(!log->flush(50ms));  // stalled: flush tells, it does not hang

    // The reader comes back: what was kept arrives whole, followed by one warning per episode.
    std::string text;
    std::thread reader([&] { text = pipe.read_all(); });
    REQUIRE(log->flush(10s));
    CHECK(log->dropped() == dropped);
    log.reset();
    ::close(pipe.write_end);
    pipe.write_end = -1;
    reader.join();
    const auto lines = split_lines(text);
    std::uint64_t kept = 0, reported = 0;
    const std::regex warning(R"(spur warn: log lines dropped: the log's destination did not keep up dropped=(\d+) max_bytes=16384)");
    for (const auto& line : lines) {
        std::smatch m;
        if (std::regex_match(line, m, warning)) {
            reported += std::stoull(m[1]);
            continue;
        }
        int t = -1, n = -1;
        REQUIRE(std::sscanf(line.c_str(), "t%d n%d", &t, &n) == 2);
        REQUIRE(line == payload(t, n) + std::string(50, '.'));
        ++kept;
    }
    CHECK(kept + dropped == total);
    CHECK(reported == dropped);
}

TEST_CASE("a request still answers while the access log's pipe is stalled", "[util][buffered_log][concurrency]") {
    StalledPipe pipe;
    BufferedLogOptions o;
    o.fd = pipe.write_end;
    o.max_bytes = 2048;
    o.close_timeout = 100ms;
    std::optional<BufferedLog> log(std::in_place, o);
    App app(AppOptions{[](LogLevel, std::string_view) {}});
    middleware::AccessLogOptions access;
    access.sink = log->line_sink();
    app.use(middleware::access_log(access));
    app.get("/ping", [](Request&, Response& res) { res.send("pong"); });
    {
        test::TestServer server(app);
        test::RawConnection c(server.port());
        for (int i = 0; i < 200; ++i) {
            c.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
            auto r = c.read_response();
            REQUIRE(r);
            REQUIRE(r->body() == "pong");
        }
    }
    CHECK(log->dropped() > 0);
    CHECK(log->buffered_bytes() <= o.max_bytes);
    std::thread reader([&] { pipe.read_all(); });
    log.reset();
    ::close(pipe.write_end);
    pipe.write_end = -1;
    reader.join();
}

TEST_CASE("the destructor gives up on a destination that takes nothing after close_timeout", "[util][buffered_log]") {
    // Never read and never closed: the writer abandoned here stays blocked on this pipe, and
    // never writes to a descriptor the test would have closed and the process reused.
    static auto* pipe = new StalledPipe();  // a root for LeakSanitizer, not a leak
    BufferedLogOptions o;
    o.fd = pipe->write_end;
    o.close_timeout = 100ms;
    const auto start = std::chrono::steady_clock::now();
    {
        BufferedLog log(o);
        log.write("never read");
    }
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("the destructor's flush and stop share one close_timeout", "[util][buffered_log]") {
    static auto* pipe = new StalledPipe();  // as above: the abandoned writer stays blocked on it
    BufferedLogOptions o;
    o.fd = pipe->write_end;
    o.close_timeout = 1s;
    const auto start = std::chrono::steady_clock::now();
    {
        BufferedLog log(o);
        log.write("never read");
    }
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 1s);
    CHECK(took < 1800ms);  // the flush's wait and the stop's were one second each before
}

TEST_CASE("a server's access lines are all written when it stops", "[util][buffered_log]") {
    TempFile file("stop");
    BufferedLogOptions o;
    o.fd = file.fd;
    o.linger = 10s;  // nothing is written before the stop: it is the stop that writes
    {
        BufferedLog log(o);
        App app(AppOptions{[](LogLevel, std::string_view) {}});
        middleware::AccessLogOptions access;
        access.sink = log.line_sink();
        app.use(middleware::access_log(access));
        app.get("/ping", [](Request&, Response& res) { res.send("pong"); });
        test::TestServer server(app);
        for (int i = 0; i < 20; ++i) REQUIRE(test::round_trip(server.port(), "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
        server.stop();
    }
    const auto lines = split_lines(file.text());
    REQUIRE(lines.size() == 20);
    for (const auto& line : lines) CHECK(line.rfind("GET /ping 200 4B ", 0) == 0);
}

TEST_CASE("the sink writes records in the log's format, and still writes after the log is gone", "[util][buffered_log]") {
    TempFile file("sink");
    LogSink sink;
    {
        BufferedLogOptions o;
        o.fd = file.fd;
        o.format = LogFormat::json;
        BufferedLog log(o);
        sink = log.sink(LogLevel::info);
        sink(LogLevel::debug, "below the level");
        const LogField fields[] = {{"user", 7}};
        sink(LogRecord{.level = LogLevel::warn, .message = "hello", .request_id = "r1", .fields = fields});
    }
    sink(LogLevel::error, "after");  // the exit path: written at once
    const auto lines = split_lines(file.text());
    REQUIRE(lines.size() == 2);
    auto first = boost::json::parse(lines[0]).as_object();
    CHECK(first.at("level") == "warn");
    CHECK(first.at("msg") == "hello");
    CHECK(first.at("request_id") == "r1");
    CHECK(first.at("user") == 7);
    CHECK(boost::json::parse(lines[1]).at("msg") == "after");
}

TEST_CASE("a closed pipe counts its lines as dropped and does not end the process", "[util][buffered_log]") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::close(fds[0]);  // nobody will ever read: writes fail with EPIPE (and raise SIGPIPE)
    {
        BufferedLogOptions o;
        o.fd = fds[1];
        BufferedLog log(o);
        for (int i = 0; i < 10; ++i) log.write("lost " + std::to_string(i));
        REQUIRE(log.flush(5s));
        CHECK(log.dropped() == 10);
    }
    ::close(fds[1]);
}

TEST_CASE("after the log is gone, a line to a closed pipe does not end the process either", "[util][buffered_log]") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::close(fds[0]);  // writes fail with EPIPE and raise SIGPIPE, whose default action ends the process
    std::function<void(std::string_view)> line;
    {
        BufferedLogOptions o;
        o.fd = fds[1];
        BufferedLog log(o);
        line = log.line_sink();
    }
    // The exit path: written at once by this thread, which has SIGPIPE neither blocked nor ignored.
    struct sigaction action {};
    REQUIRE(::sigaction(SIGPIPE, nullptr, &action) == 0);
    REQUIRE(action.sa_handler == SIG_DFL);
    sigset_t mask;
    REQUIRE(::pthread_sigmask(SIG_SETMASK, nullptr, &mask) == 0);
    REQUIRE(sigismember(&mask, SIGPIPE) == 0);
    line("written after the log");
    // Still here; and the signal was not left pending to end the process once unblocked.
    sigset_t pending;
    REQUIRE(::sigpending(&pending) == 0);
    CHECK(sigismember(&pending, SIGPIPE) == 0);
    REQUIRE(::pthread_sigmask(SIG_SETMASK, nullptr, &mask) == 0);
    CHECK(sigismember(&mask, SIGPIPE) == 0);
    ::close(fds[1]);
}
