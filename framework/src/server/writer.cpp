#include "server/writer.hpp"

#include <spur/detail/response_access.hpp>

#include "server/transport.hpp"
#include "util/exception_message.hpp"

#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/core.h>

#include <array>
#include <charconv>
#include <cstring>

namespace spur::detail {

namespace {

class StreamWriter : public BodyWriter {
public:
    StreamWriter(Transport& transport, bool chunked, std::chrono::milliseconds timeout)
        : transport_(transport), chunked_(chunked), timeout_(timeout) {}

    Task<> write(std::string_view chunk) override {
        if (chunk.empty()) co_return;  // an empty chunk would end a chunked body early
        boost::system::error_code ec;
        if (chunked_) {
            // RFC 9112 §7.1: size in hex, CRLF, data, CRLF — one gathered write.
            char size_line[24];
            char* end = std::to_chars(size_line, size_line + 20, chunk.size(), 16).ptr;
            *end++ = '\r';
            *end++ = '\n';
            const std::array<net::const_buffer, 3> buffers{
                net::buffer(size_line, static_cast<std::size_t>(end - size_line)), net::buffer(chunk.data(), chunk.size()),
                net::buffer("\r\n", 2)};
            co_await transport_.write(buffers, ec, timeout_);
        } else {
            const std::array<net::const_buffer, 1> buffers{net::buffer(chunk.data(), chunk.size())};
            co_await transport_.write(buffers, ec, timeout_);
        }
        if (ec) throw boost::system::system_error(ec);
        written_ += chunk.size();
    }

    std::uint64_t written() const noexcept { return written_; }

private:
    Transport& transport_;
    bool chunked_;
    std::chrono::milliseconds timeout_;
    std::uint64_t written_ = 0;
};

}  // namespace

// The status line and header block, written straight into a reused buffer. Beast's
// serializer walks a chain of buffer views per field, which cost about as much CPU as
// everything else in a small request together (see docs/benchmarks.md).
void append_head(const http::response_header<>& h, std::string_view preset, const BodyFraming::WireFields& wire,
                 std::string& out) {
    // Measured first, then copied into place: one growth check instead of four per field.
    constexpr std::string_view date_name = "Date: ", server_field = "Server: spur\r\n", length_name = "Content-Length: ";
    const auto reason = h.reason();
    std::size_t size = 13 + reason.size() + 2 + preset.size() + 2;  // "HTTP/1.1 200 " reason CRLF ... CRLF
    for (const auto& field : h) size += field.name_string().size() + 2 + field.value().size() + 2;
    if (wire.date_set) size += date_name.size() + wire.date.size() + 2;
    if (wire.server) size += server_field.size();
    if (wire.length_size > 0) size += length_name.size() + wire.length_size + 2;
    const std::size_t start = out.size();
    out.resize(start + size);
    char* p = out.data() + start;
    const auto put = [&p](std::string_view s) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    };
    put(h.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    const unsigned status = h.result_int();
    *p++ = static_cast<char>('0' + status / 100 % 10);
    *p++ = static_cast<char>('0' + status / 10 % 10);
    *p++ = static_cast<char>('0' + status % 10);
    *p++ = ' ';
    put(reason);
    put("\r\n");
    for (const auto& field : h) {
        put(field.name_string());
        put(": ");
        put(field.value());
        put("\r\n");
    }
    if (!preset.empty()) put(preset);  // memcpy from an empty view's null data is undefined
    if (wire.date_set) {
        put(date_name);
        put(std::string_view(wire.date.data(), wire.date.size()));
        put("\r\n");
    }
    if (wire.server) put(server_field);
    if (wire.length_size > 0) {
        put(length_name);
        put(std::string_view(wire.length.data(), wire.length_size));
        put("\r\n");
    }
    put("\r\n");
}

Task<boost::system::error_code> ResponseWriter::write(Response& res, const BodyFraming& framing, const Request& req,
                                                      net::const_buffer before) {
    auto& transport = transport_;
    auto& head = head_;
    const auto timeout = timeout_;
    const auto& log = log_;
    boost::system::error_code ec;
    head.clear();
    append_head(ResponseAccess::raw(res), ResponseAccess::preset_wire(res), framing.wire, head);
    if (!framing.stream) {
        const std::array<net::const_buffer, 3> buffers{before, net::buffer(head), net::buffer(res.body())};
        const std::size_t n = co_await transport.write(buffers, ec, timeout);
        const std::size_t preamble = before.size() + head.size();
        res.bytes_sent(n > preamble ? n - preamble : 0);
        co_return ec;
    }

    const std::array<net::const_buffer, 2> head_buffers{before, net::buffer(head)};
    co_await transport.write(head_buffers, ec, timeout);
    if (ec) co_return ec;

    StreamWriter writer(transport, framing.chunked, timeout);
    // Headers are out: a failing producer can only end the connection, never become a 500.
    std::string failure;
    try {
        co_await res.producer()(writer);
    } catch (const boost::system::system_error& e) {
        ec = e.code();  // the peer went away mid-body
    } catch (...) {
        failure = exception_message(std::current_exception());
    }
    res.bytes_sent(writer.written());
    if (ec) co_return ec;
    // The client left and the connection's watch cancelled the producer (whatever it was
    // waiting on threw): the client is gone, nothing failed.
    if (!failure.empty() && (co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none)
        co_return make_error_code(net::error::operation_aborted);
    if (!failure.empty()) {
        log(LogRecord{.level = LogLevel::error,
                      .message = fmt::format("streamed body failed after headers were sent: {}", failure),
                      .request_id = req.id(),
                      .trace_id = req.trace().trace_id_hex()});
        co_return make_error_code(boost::system::errc::io_error);
    }
    if (framing.chunked) {
        const std::array<net::const_buffer, 1> last{net::buffer("0\r\n\r\n", 5)};
        co_await transport.write(last, ec, timeout);
        co_return ec;
    }
    if (auto declared = res.stream_length(); declared && *declared != writer.written()) {
        log(LogRecord{.level = LogLevel::error,
                      .message = fmt::format("streamed body wrote {} bytes but declared Content-Length {}", writer.written(), *declared),
                      .request_id = req.id(),
                      .trace_id = req.trace().trace_id_hex()});
        co_return make_error_code(boost::system::errc::io_error);
    }
    co_return ec;
}

}  // namespace spur::detail
