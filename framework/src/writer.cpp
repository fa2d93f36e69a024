#include "writer.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fmt/core.h>

#include <array>

namespace spur::detail {

namespace {

template <class Stream>
class StreamWriter : public BodyWriter {
public:
    StreamWriter(Stream& stream, bool chunked, std::chrono::milliseconds timeout)
        : stream_(stream), chunked_(chunked), timeout_(timeout) {}

    Task<> write(std::string_view chunk) override {
        if (chunk.empty()) co_return;  // an empty chunk would end a chunked body early
        beast::get_lowest_layer(stream_).expires_after(timeout_);
        if (chunked_) {
            co_await net::async_write(stream_, http::make_chunk(net::buffer(chunk.data(), chunk.size())),
                                      net::use_awaitable);
        } else {
            co_await net::async_write(stream_, net::buffer(chunk.data(), chunk.size()), net::use_awaitable);
        }
        written_ += chunk.size();
    }

    std::uint64_t written() const noexcept { return written_; }

private:
    Stream& stream_;
    bool chunked_;
    std::chrono::milliseconds timeout_;
    std::uint64_t written_ = 0;
};

// The status line and header block, written straight into a reused buffer. Beast's
// serializer walks a chain of buffer views per field, which cost about as much CPU as
// everything else in a small request together (see docs/benchmarks.md).
void serialize_head(const http::response_header<>& h, std::string& out) {
    out.clear();
    out.append(h.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    const unsigned status = h.result_int();
    const char digits[3] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                            static_cast<char>('0' + status % 10)};
    out.append(digits, 3);
    out.push_back(' ');
    out.append(h.reason());
    out.append("\r\n");
    for (const auto& field : h) {
        out.append(field.name_string());
        out.append(": ");
        out.append(field.value());
        out.append("\r\n");
    }
    out.append("\r\n");
}

}  // namespace

template <class Stream>
Task<boost::system::error_code> write_response(Stream& stream, Response& res, const BodyFraming& framing,
                                               std::chrono::milliseconds timeout, const LogSink& log,
                                               std::string& head) {
    boost::system::error_code ec;
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(timeout);
    serialize_head(res.header(), head);
    if (!framing.stream) {
        const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(res.body())};
        co_await net::async_write(stream, buffers, net::redirect_error(net::use_awaitable, ec));
        co_return ec;
    }

    co_await net::async_write(stream, net::buffer(head), net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return ec;

    StreamWriter<Stream> writer(stream, framing.chunked, timeout);
    // Headers are out: a failing producer can only end the connection, never become a 500.
    std::string failure;
    try {
        co_await res.producer()(writer);
    } catch (const boost::system::system_error& e) {
        co_return e.code();  // the peer went away mid-body
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "non-standard exception";
    }
    if (!failure.empty()) {
        log(LogLevel::error, fmt::format("streamed body failed after headers were sent: {}", failure));
        co_return make_error_code(boost::system::errc::io_error);
    }
    if (framing.chunked) {
        tcp.expires_after(timeout);
        co_await net::async_write(stream, http::make_chunk_last(), net::redirect_error(net::use_awaitable, ec));
        co_return ec;
    }
    if (auto declared = res.stream_length(); declared && *declared != writer.written()) {
        log(LogLevel::error, fmt::format("streamed body wrote {} bytes but declared Content-Length {}",
                                         writer.written(), *declared));
        co_return make_error_code(boost::system::errc::io_error);
    }
    co_return ec;
}

template Task<boost::system::error_code> write_response(beast::tcp_stream&, Response&, const BodyFraming&,
                                                        std::chrono::milliseconds, const LogSink&, std::string&);
template Task<boost::system::error_code> write_response(beast::ssl_stream<beast::tcp_stream&>&, Response&,
                                                        const BodyFraming&, std::chrono::milliseconds, const LogSink&,
                                                        std::string&);

}  // namespace spur::detail
