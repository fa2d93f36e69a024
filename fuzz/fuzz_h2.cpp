// HTTP/2 frames on a real connection (h2c by prior knowledge): nghttp2's framing and HPACK as
// spur drives them, the request head (pseudo-headers, 414/431), stream bodies and their
// windows, streamed answers, and the flood limits (set low here so inputs reach them). A server
// on loopback is started once; each input is written on a fresh connection after the client
// preface, the write side is shut, and the server's frames are read until it closes.
// Oracle: no crash or sanitizer report, the server's header blocks decode, never a :status 500
// (these routes do not throw), and the server closes the connection once the client has left
// (every timeout here is 500 ms; the client waits 2 s).
#include <spur/middleware/json_body.hpp>
#include <spur/middleware/multipart.hpp>
#include <spur/middleware/urlencoded.hpp>
#include <spur/server.hpp>
#include <spur/spur.hpp>

#include <nghttp2/nghttp2.h>

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
#include <string_view>
#include <thread>

namespace {

constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

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
        // A streamed answer larger than a stream's default window: DATA frames wait for the
        // client's WINDOW_UPDATE.
        app.get("/stream", [](spur::Request&, spur::Response& res) {
            res.stream([](spur::BodyWriter& out) -> spur::Task<> {
                const std::string piece(16 * 1024, 'x');
                for (int i = 0; i < 5; ++i) co_await out.write(piece);
            });
        });
        spur::ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.threads = 1;
        o.blocking_threads = 1;
        o.handle_signals = false;
        o.max_body_bytes = 64 * 1024;
        o.max_request_line = 1024;
        o.max_header_bytes = 2048;
        o.max_header_fields = 20;
        o.header_timeout = std::chrono::milliseconds(500);
        o.body_timeout = std::chrono::milliseconds(500);
        o.idle_timeout = std::chrono::milliseconds(500);
        o.write_timeout = std::chrono::milliseconds(500);
        o.http2.cleartext = true;
        o.http2.max_concurrent_streams = 8;
        o.http2.stream_window = 4096;
        o.http2.reset_burst = 8;
        o.http2.resets_per_second = 4;
        o.http2.control_burst = 32;
        o.http2.control_per_second = 16;
        o.http2.max_continuations = 4;
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

bool send_all(int fd, const std::uint8_t* data, std::size_t size) {
    std::size_t sent = 0;
    while (sent < size) {
        auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;  // libFuzzer's timers interrupt system calls
        if (n <= 0) return false;  // the server may refuse and close before reading everything
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

[[noreturn]] void finding(const char* what, const std::string& reply) {
    std::lock_guard lock(log_mutex);
    std::fprintf(stderr, "%s (%zu reply bytes)\nserver log: %s\n", what, reply.size(), last_error.c_str());
    __builtin_trap();
}

// The server's frames, complete ones only (the connection may end in the middle of one): each
// header block (HEADERS, then CONTINUATION up to END_HEADERS) is decoded with one HPACK decoder
// for the connection, as a client would, and its :status read.
void check_reply(const std::string& reply) {
    nghttp2_hd_inflater* inflater = nullptr;
    if (nghttp2_hd_inflate_new(&inflater) != 0) std::abort();
    std::unique_ptr<nghttp2_hd_inflater, decltype(&nghttp2_hd_inflate_del)> owner(inflater, &nghttp2_hd_inflate_del);
    const auto* p = reinterpret_cast<const std::uint8_t*>(reply.data());
    std::size_t at = 0;
    std::string block;
    bool in_block = false;
    while (reply.size() - at >= 9) {
        const std::size_t length = (std::size_t{p[at]} << 16) | (std::size_t{p[at + 1]} << 8) | p[at + 2];
        const std::uint8_t type = p[at + 3], flags = p[at + 4];
        if (reply.size() - at - 9 < length) break;
        const std::uint8_t* payload = p + at + 9;
        at += 9 + length;
        std::size_t begin = 0, end = length;
        if (type == NGHTTP2_HEADERS) {
            if ((flags & NGHTTP2_FLAG_PADDED) != 0) {
                if (length < 1 || payload[0] >= length) finding("a HEADERS frame with bad padding", reply);
                begin = 1;
                end -= payload[0];
            }
            if ((flags & NGHTTP2_FLAG_PRIORITY) != 0) begin += 5;
            if (begin > end) finding("a HEADERS frame too short for its flags", reply);
            block.assign(reinterpret_cast<const char*>(payload + begin), end - begin);
            in_block = true;
        } else if (type == NGHTTP2_CONTINUATION && in_block) {
            block.append(reinterpret_cast<const char*>(payload), length);
        } else {
            continue;
        }
        if ((flags & NGHTTP2_FLAG_END_HEADERS) == 0) continue;
        in_block = false;
        const auto* in = reinterpret_cast<const std::uint8_t*>(block.data());
        std::size_t left = block.size();
        for (;;) {
            nghttp2_nv nv;
            int out = 0;
            const auto used = nghttp2_hd_inflate_hd2(inflater, &nv, &out, in, left, 1);
            if (used < 0) finding("a header block from the server that does not decode", reply);
            in += used;
            left -= static_cast<std::size_t>(used);
            if ((out & NGHTTP2_HD_INFLATE_EMIT) != 0 &&
                std::string_view(reinterpret_cast<const char*>(nv.name), nv.namelen) == ":status" &&
                std::string_view(reinterpret_cast<const char*>(nv.value), nv.valuelen) == "500")
                finding("a 500 answer", reply);
            if ((out & NGHTTP2_HD_INFLATE_FINAL) != 0) {
                nghttp2_hd_inflate_end_headers(inflater);
                break;
            }
            if (used == 0 && (out & NGHTTP2_HD_INFLATE_EMIT) == 0) break;
        }
    }
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
            std::fprintf(stderr, "fuzz_h2: cannot connect to the server: %s\n", std::strerror(errno));
            std::abort();
        }
        ::usleep(10'000);
    }
    if (send_all(fd, reinterpret_cast<const std::uint8_t*>(preface.data()), preface.size())) send_all(fd, data, size);
    ::shutdown(fd, SHUT_WR);
    std::string reply;
    char buf[16384];
    bool lingered = false;
    for (;;) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        lingered = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (lingered) finding("the server kept the connection open 2 s after the client left", reply);
    check_reply(reply);
    return 0;
}
