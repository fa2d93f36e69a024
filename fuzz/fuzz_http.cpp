// The whole request path as bytes on a real connection: spur's header scanner and framing
// checks, Beast's parser, the body reader, the router and the body-parsing middleware.
// A server on loopback is started once; each input is written on a fresh connection, the
// write side is shut, and every response is read until the server closes.
// Oracle: no crash or sanitizer report, and never a 500 (these routes do not throw).
#include <spur/middleware/json_body.hpp>
#include <spur/middleware/multipart.hpp>
#include <spur/middleware/urlencoded.hpp>
#include <spur/server.hpp>
#include <spur/spur.hpp>

#include <arpa/inet.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace {

// The server's last error log line, printed if an input makes it answer 500.
std::mutex log_mutex;
std::string last_error;

struct Target {
    spur::App app{spur::AppOptions{[](spur::LogLevel level, std::string_view line) {
        if (level != spur::LogLevel::error) return;
        std::lock_guard lock(log_mutex);
        last_error = line;
    }}};
    std::unique_ptr<spur::Server> server;
    std::thread thread;
    unsigned short port = 0;

    Target() {
        app.use(spur::middleware::json_body());
        app.use(spur::middleware::urlencoded());
        app.get("/", [](spur::Request&, spur::Response& res) { res.send("root"); });
        app.get("/users/:id/posts/:post", [](spur::Request& req, spur::Response& res) {
            res.json({{"id", req.param("id")}, {"post", req.param("post")}, {"q", req.query("q").value_or("")}});
        });
        app.post("/echo", [](spur::Request& req, spur::Response& res) { res.send(req.body()); });
        app.post("/json", [](spur::Request& req, spur::Response& res) { res.json(req.json()); });
        app.get("/cookies", [](spur::Request& req, spur::Response& res) { res.send(std::string(req.cookie("a").value_or(""))); });
        app.post("/upload", spur::middleware::multipart(), [](spur::Request& req, spur::Response& res) {
            const auto* form = spur::form_data(req);
            res.send(form ? std::to_string(form->fields.size()) : "none");
        }).stream_body();
        spur::ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.threads = 1;
        o.blocking_threads = 1;
        o.handle_signals = false;
        o.max_body_bytes = 64 * 1024;
        o.header_timeout = std::chrono::milliseconds(500);
        o.body_timeout = std::chrono::milliseconds(500);
        server = std::make_unique<spur::Server>(app, o);
        port = server->start();
        thread = std::thread([this] { server->run(); });
    }
};

Target& target() {
    static Target* t = new Target();  // never destroyed: the server runs until the process exits
    return *t;
}

// connect() that survives EINTR (libFuzzer's SIGALRM timer): the connection then completes
// in the background, so wait for it and read its outcome instead of calling connect again.
bool connect_to(int fd, const sockaddr_in& addr) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return true;
    if (errno != EINTR) return false;
    pollfd p{fd, POLLOUT, 0};
    while (::poll(&p, 1, 5000) < 0 && errno == EINTR) {
    }
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    errno = error;
    return error == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& t = target();
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(t.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // Thousands of connections a second would exhaust the ephemeral ports with TIME_WAIT
    // sockets (the client closes last); an abortive close leaves none behind.
    linger no_time_wait{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_time_wait, sizeof no_time_wait);
    for (int attempts = 0; !connect_to(fd, addr); ++attempts) {
        // A harness problem, not a finding: report it plainly instead of as a crash.
        if (errno != EADDRNOTAVAIL || attempts > 100) {
            std::fprintf(stderr, "fuzz_http: cannot connect to the server: %s\n", std::strerror(errno));
            std::abort();
        }
        ::usleep(10'000);
    }
    std::size_t sent = 0;
    while (sent < size) {
        auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;  // libFuzzer's timers interrupt system calls
        if (n <= 0) break;  // the server may refuse and close before reading everything
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    std::string reply;
    char buf[16384];
    for (;;) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    for (std::size_t at = reply.find("HTTP/1."); at != std::string::npos; at = reply.find("HTTP/1.", at + 1)) {
        if (reply.compare(at + 8, 5, " 500 ") == 0) {
            std::lock_guard lock(log_mutex);
            std::fprintf(stderr, "a 500 answer:\n%s\nserver log: %s\n", reply.c_str(), last_error.c_str());
            __builtin_trap();
        }
    }
    return 0;
}
