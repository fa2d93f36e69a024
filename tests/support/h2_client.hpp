#pragma once
// A blocking HTTP/2 client (h2c by prior knowledge) for in-process tests that need to do what
// curl cannot: reset one stream mid-request, keep others open, watch GOAWAY. nghttp2's client
// session does the framing; the server under test is spur's own. The independent client of
// the HTTP/2 suite is python3-h2 (tests/http2/).

#include <nghttp2/nghttp2.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <deque>
#include <vector>

namespace spur::test {

class H2Client {
public:
    struct Answer {
        int status = 0;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
        bool closed = false;            ///< the stream ended
        std::uint32_t reset_code = 0;   ///< RST_STREAM's error code, if it ended so
    };

    explicit H2Client(unsigned short port) : socket_(io_) {
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        nghttp2_session_callbacks* cb = nullptr;
        nghttp2_session_callbacks_new(&cb);
        nghttp2_session_callbacks_set_on_header_callback(cb, &H2Client::on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &H2Client::on_data);
        nghttp2_session_callbacks_set_on_stream_close_callback(cb, &H2Client::on_close);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &H2Client::on_frame);
        nghttp2_session_client_new(&session_, cb, this);
        nghttp2_session_callbacks_del(cb);
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
        flush();
    }
    ~H2Client() { nghttp2_session_del(session_); }
    H2Client(const H2Client&) = delete;
    H2Client& operator=(const H2Client&) = delete;

    /// Opens a stream; returns its id. `body` (if any) is sent with it.
    std::int32_t request(const std::string& method, const std::string& path, std::string body = {}) {
        bodies_.push_back(std::move(body));
        const std::string& b = bodies_.back();
        const nghttp2_nv headers[] = {nv(":method", method), nv(":scheme", "http"), nv(":authority", "localhost"),
                                      nv(":path", path)};
        nghttp2_data_provider provider{};
        provider.source.ptr = const_cast<std::string*>(&b);
        provider.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                                    std::uint32_t* flags, nghttp2_data_source* source, void*) -> ssize_t {
            auto& text = *static_cast<std::string*>(source->ptr);
            const std::size_t n = std::min(length, text.size());
            std::copy_n(text.data(), n, buf);
            text.erase(0, n);
            if (text.empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
            return static_cast<ssize_t>(n);
        };
        const auto id = nghttp2_submit_request(session_, nullptr, headers, 4, b.empty() ? nullptr : &provider, nullptr);
        if (id < 0) throw std::runtime_error("nghttp2_submit_request failed");
        answers_[id];
        flush();
        return id;
    }

    /// Resets a stream (RST_STREAM CANCEL), as a browser does when the user navigates away.
    void reset(std::int32_t id) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
        flush();
    }

    /// Reads until `done` holds, the server closes, or `timeout` passes; returns whether `done` held.
    template <class Pred>
    bool until(Pred done, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{socket_.native_handle(), POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
            char buffer[16384];
            boost::system::error_code ec;
            const std::size_t n = socket_.read_some(boost::asio::buffer(buffer), ec);
            if (ec) {
                server_closed_ = true;
                return done();
            }
            if (nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(buffer), n) < 0) return done();
            flush();
        }
        return true;
    }

    /// Waits for stream `id` to end and returns what came.
    Answer& answer(std::int32_t id, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        until([&] { return answers_[id].closed; }, timeout);
        return answers_[id];
    }

    std::optional<std::uint32_t> goaway() const { return goaway_; }
    bool server_closed() const { return server_closed_; }

private:
    static nghttp2_nv nv(const char* name, const std::string& value) {
        return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
                reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), std::char_traits<char>::length(name),
                value.size(), NGHTTP2_NV_FLAG_NONE};
    }

    void flush() {
        for (;;) {
            const std::uint8_t* data = nullptr;
            const auto n = nghttp2_session_mem_send(session_, &data);
            if (n <= 0) return;
            boost::system::error_code ec;
            boost::asio::write(socket_, boost::asio::buffer(data, static_cast<std::size_t>(n)), ec);
            if (ec) return;
        }
    }

    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t name_size,
                         const std::uint8_t* value, std::size_t value_size, std::uint8_t, void* self) {
        auto& a = static_cast<H2Client*>(self)->answers_[frame->hd.stream_id];
        std::string n(reinterpret_cast<const char*>(name), name_size), v(reinterpret_cast<const char*>(value), value_size);
        if (n == ":status") a.status = std::stoi(v);
        else a.headers.emplace_back(std::move(n), std::move(v));
        return 0;
    }
    static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data, std::size_t size,
                       void* self) {
        static_cast<H2Client*>(self)->answers_[id].body.append(reinterpret_cast<const char*>(data), size);
        return 0;
    }
    static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t code, void* self) {
        auto& a = static_cast<H2Client*>(self)->answers_[id];
        a.closed = true;
        a.reset_code = code;
        return 0;
    }
    static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* self) {
        if (frame->hd.type == NGHTTP2_GOAWAY) static_cast<H2Client*>(self)->goaway_ = frame->goaway.error_code;
        return 0;
    }

    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    nghttp2_session* session_ = nullptr;
    std::map<std::int32_t, Answer> answers_;
    std::deque<std::string> bodies_;  // a deque: the providers point at its elements
    std::optional<std::uint32_t> goaway_;
    bool server_closed_ = false;
};

}  // namespace spur::test
