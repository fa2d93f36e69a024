// Unix-domain listeners and the systemd notification protocol, on real sockets.
#include <spur/server.hpp>

#include "support/test_server.hpp"

#include <boost/asio/local/stream_protocol.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
fs::path temp_path(const char* name) {
    auto dir = fs::temp_directory_path() / ("spur-unix-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir / name;
}

// The whole response to one GET over the unix socket at `path`.
std::string unix_get(const fs::path& path, std::string_view target, std::string_view extra_headers = {}) {
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket s(io);
    s.connect(boost::asio::local::stream_protocol::endpoint(path.string()));
    std::string request = "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra_headers) +
                          "Connection: close\r\n\r\n";
    boost::asio::write(s, boost::asio::buffer(request));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
        auto n = s.read_some(boost::asio::buffer(buf), ec);
        out.append(buf, n);
        if (ec) break;
    }
    return out;
}

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifyListener {
public:
    explicit NotifyListener(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        ::unlink(path.c_str());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        timeval tv{0, 500000};  // what has not arrived by then is not coming
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~NotifyListener() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    // An interrupted wait (EINTR) is carried on until the receive timeout: on the io_uring
    // backend this thread, having started the server, receives its ring's task work, which
    // interrupts a socket wait that has a timeout.
    std::string next() {
        char buf[256];
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
        ssize_t n;
        while ((n = ::recv(fd_, buf, sizeof buf, 0)) < 0 && errno == EINTR && std::chrono::steady_clock::now() < deadline) {
        }
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }

private:
    fs::path path_;
    int fd_ = -1;
};
}  // namespace

TEST_CASE("the server answers on a unix socket with the configured mode and removes it on shutdown", "[server][concurrency]") {
    const auto path = temp_path("app.sock");
    spur::App app;
    app.get("/who", [](spur::Request& req, spur::Response& res) { res.send(std::string(req.remote_address())); });
    auto options = spur::test::test_options();
    options.plain = false;  // the unix socket only
    options.unix_path = path.string();
    options.unix_mode = 0600;
    {
        spur::test::TestServer server(app, options);
        CHECK(server.port() == 0);
        struct stat st {};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK(S_ISSOCK(st.st_mode));
        CHECK((st.st_mode & 0777) == 0600);
        auto response = unix_get(path, "/who");
        CHECK(response.starts_with("HTTP/1.1 200 OK\r\n"));
        CHECK(response.ends_with("\r\n\r\nunix"));
        CHECK(server.server().urls() == std::vector<std::string>{"unix:" + path.string()});
    }
    CHECK_FALSE(fs::exists(path));
}

TEST_CASE("Server::urls names every listening socket from the socket itself", "[server][concurrency]") {
    spur::App app;
    auto options = spur::test::test_options();
    options.host = "127.0.0.1";
    options.unix_path = temp_path("urls.sock").string();
    spur::test::TestServer server(app, options);
    CHECK(server.server().urls() ==
          std::vector<std::string>{"http://127.0.0.1:" + std::to_string(server.port()), "unix:" + options.unix_path});
    // An IPv6 address in brackets, where the host has IPv6 loopback.
    options.host = "::1";
    options.unix_path.clear();
    spur::App v6_app;
    std::optional<spur::test::TestServer> v6;
    try {
        v6.emplace(v6_app, options);
    } catch (const boost::system::system_error&) {
        WARN("no IPv6 loopback here: the bracketed form is not checked");
    }
    if (v6) CHECK(v6->server().urls() == std::vector<std::string>{"http://[::1]:" + std::to_string(v6->port())});
}

TEST_CASE("behind a proxy on the unix socket the client address comes from X-Forwarded-For only when \"unix\" is trusted", "[server][concurrency]") {
    const auto path = temp_path("proxied.sock");
    spur::App app;
    app.get("/ip", [](spur::Request& req, spur::Response& res) { res.send(std::string(req.ip())); });
    auto options = spur::test::test_options();
    options.unix_path = path.string();
    auto ask = [&] {
        auto out = unix_get(path, "/ip", "X-Forwarded-For: 203.0.113.9\r\n");
        return out.substr(out.find("\r\n\r\n") + 4);
    };
    {
        spur::test::TestServer server(app, options);
        CHECK(ask() == "unix");  // an untrusted peer's header is ignored
    }
    options.trusted_proxies = {"unix"};
    spur::test::TestServer server(app, options);
    CHECK(ask() == "203.0.113.9");
}

TEST_CASE("a stale socket file from a killed process is replaced but any other file is left alone", "[server][concurrency]") {
    const auto path = temp_path("stale.sock");
    {
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        ::unlink(path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        ::close(fd);  // the file stays, as after a SIGKILL
    }
    spur::App app;
    app.get("/", [](spur::Request&, spur::Response& res) { res.send("fresh"); });
    auto options = spur::test::test_options();
    options.unix_path = path.string();
    {
        spur::test::TestServer server(app, options);
        CHECK(unix_get(path, "/").ends_with("fresh"));
        CHECK(spur::test::round_trip(server.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")->body() == "fresh");
    }
    const auto regular = temp_path("regular-file");
    { std::ofstream(regular) << "data"; }
    options.unix_path = regular.string();
    spur::App other;
    spur::Server server(other, options);
    CHECK_THROWS_AS(server.start(), boost::system::system_error);
    CHECK(fs::file_size(regular) == 4);
}

TEST_CASE("systemd hears READY=1 once serving, WATCHDOG=1 while the loop turns, STOPPING=1 on shutdown", "[server][concurrency]") {
    const auto path = temp_path("notify");
    NotifyListener systemd(path);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "100000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    spur::App app;
    spur::test::TestServer server(app);
    CHECK(systemd.next() == "READY=1");
    CHECK(systemd.next() == "WATCHDOG=1");
    CHECK(systemd.next() == "WATCHDOG=1");
    server.stop();
    std::string last;
    for (std::string m; !(m = systemd.next()).empty();) last = m;
    CHECK(last == "STOPPING=1");
    ::unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("with systemd = false the notification socket is left alone", "[server][concurrency]") {
    const auto path = temp_path("notify-off");
    NotifyListener systemd(path);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    spur::App app;
    auto options = spur::test::test_options();
    options.systemd = false;
    {
        spur::test::TestServer server(app, options);
    }
    CHECK(systemd.next().empty());
    ::unsetenv("NOTIFY_SOCKET");
}
