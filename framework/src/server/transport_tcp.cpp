// Plain TCP: the transport, and the entry point for a plain connection.
#include "server/connection.hpp"
#include "server/deadline.hpp"
#include "server/drained_read.hpp"
#include "server/transport.hpp"
#include "server/websocket/stream_session.hpp"

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <memory>
#include <optional>

#include <cerrno>

namespace spur::detail {

namespace {

constexpr std::size_t linger_bytes = 256 * 1024;

// The completion of a read or write under the connection's LazyDeadline: the deadline learns
// that the operation ended before the coroutine resumes. Carries the awaiting coroutine's
// executor, allocator and cancellation slot, so Asio treats it as that coroutine's handler.
template <class Handler>
struct Timed {
    LazyDeadline* deadline;
    Handler handler;

    void operator()(boost::system::error_code ec, std::size_t n) {
        deadline->end(ec);
        std::move(handler)(ec, n);
    }

    using executor_type = net::associated_executor_t<Handler>;
    executor_type get_executor() const noexcept { return net::get_associated_executor(handler); }
    using allocator_type = net::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept { return net::get_associated_allocator(handler); }
    using cancellation_slot_type = net::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept { return net::get_associated_cancellation_slot(handler); }
};

class TcpTransport final : public Transport {
public:
    explicit TcpTransport(beast::tcp_stream& stream)
        : Transport(stream, false), stream_(stream),
          deadline_(std::make_shared<LazyDeadline>(stream.get_executor(), stream.socket())) {
        const auto executor = stream.get_executor();  // target() points into this copy
        if (const auto* io = executor.target<net::io_context::executor_type>()) io_ = *io;
#if defined(SPUR_DRAINING_READS)
        draining_ = track_unread(stream.socket().native_handle());  // TCP only: see drained_read.hpp
#endif
    }
    ~TcpTransport() override { deadline_->detach(); }
    TcpTransport(const TcpTransport&) = delete;
    TcpTransport& operator=(const TcpTransport&) = delete;

    // The socket's own reads and writes, not Beast's tcp_stream's: those arm and cancel a
    // timer around every operation, and the deadline here costs a stored time instead.
    void expires_after(std::chrono::steady_clock::duration allowance) override { deadline_->expires_after(allowance); }
    void expires_never() override { deadline_->expires_never(); }

    // Asio's own awaitable, returned rather than awaited in a coroutine of ours: one frame
    // less per read, and one less alive for every idle connection.
    Task<std::size_t> read_some(net::mutable_buffer buffer, boost::system::error_code& ec) override {
        Token t = token(ec);
        return net::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, net::mutable_buffer b) { start_read(b, std::move(handler)); },
            t, buffer);
    }

    // One posted function starts the read: cheaper than suspending and resuming the
    // coroutine for the turn and then again for the read.
    Task<std::size_t> read_next(net::mutable_buffer buffer, boost::system::error_code& ec) override {
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
        return read_some(buffer, ec);
#else
        Token t = token(ec);
        return net::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, net::mutable_buffer b) {
                auto start = [this, b, handler = std::move(handler)]() mutable { start_next_read(b, std::move(handler)); };
                if (io_)
                    net::post(*io_, std::move(start));
                else
                    net::post(stream_.get_executor(), std::move(start));
            },
            t, buffer);
#endif
    }

    // A response almost always fits the socket's send buffer: Transport::write sends it with
    // write_now(), in one sendmsg, without an asynchronous operation and the resumption (a
    // third of spur's instructions per request). Only what the socket does not take comes here.
    Task<std::size_t> write_some(std::span<const net::const_buffer> buffers, boost::system::error_code& ec) override {
        Token t = token(ec);
        return net::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, std::span<const net::const_buffer> b) {
                deadline_->begin();
                stream_.socket().async_write_some(b, Timed<decltype(handler)>{deadline_.get(), std::move(handler)});
            },
            t, buffers);
    }

    std::size_t write_now(std::span<const net::const_buffer> buffers, boost::system::error_code& ec) override {
        std::array<iovec, 8> iov;
        if (buffers.size() > iov.size()) return 0;  // the caller writes them asynchronously
        std::size_t count = 0;
        for (const auto& b : buffers) {
            if (b.size() == 0) continue;
            iov[count++] = {const_cast<void*>(b.data()), b.size()};
        }
        if (count == 0) return 0;
        msghdr message{};
        message.msg_iov = iov.data();
        message.msg_iovlen = count;
        for (;;) {
            const auto n = ::sendmsg(stream_.socket().native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, boost::system::system_category());
            return 0;
        }
    }

    Task<> close_gracefully(std::chrono::milliseconds linger) override {
        boost::system::error_code ec;
        stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
        if (ec) co_return;
        stream_.expires_after(linger);
        rearm();  // a reset that came with the last bytes read is reported (drained_read.hpp)
        char scratch[4096];
        std::size_t total = 0;
        while (total < linger_bytes) {
            auto n = co_await stream_.async_read_some(net::buffer(scratch), net::redirect_error(net::use_awaitable, ec));
            if (ec) break;
            total += n;
        }
    }

    Task<std::shared_ptr<WsSession>> accept_websocket(const Request::Message& request, const Response& res,
                                                      const WebSocketOptions& options, const LogSink& log) override {
        auto session = std::make_shared<WsStreamSession<beast::tcp_stream>>(stream_, options, log);
        auto ec = co_await session->accept(request, res);
        co_return ec ? nullptr : session;
    }

private:
    using Token = decltype(net::redirect_error(net::use_awaitable, std::declval<boost::system::error_code&>()));
    static Token token(boost::system::error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

    // A read within a message. After a read that emptied the socket, epoll is asked again
    // first, so that a reset which came with the bytes already read is not missed
    // (drained_read.hpp): see rearm().
    template <class Handler>
    void start_read(net::mutable_buffer buffer, Handler handler) {
        deadline_->begin();
        rearm();
        stream_.socket().async_read_some(buffer, Timed<Handler>{deadline_.get(), std::move(handler)});
    }

    // A wait queued ahead of the read: Asio registers it without trying it first, with
    // EPOLL_CTL_MOD, and epoll then reports again whatever is pending, a reset included. The
    // read waits behind it in the descriptor's queue and runs on the same event; it is queued
    // at once, so cancelling it or closing the socket reaches it as before. The wait's handler
    // holds nothing.
    void rearm() {
        if (!drained_) return;
        drained_ = false;
        stream_.socket().async_wait(net::socket_base::wait_read, [](boost::system::error_code) {});
    }

    // The first read of the next request: where the socket can say it was emptied, the read
    // says so, and the next one waits for epoll instead of trying a recv() that finds nothing.
    template <class Handler>
    void start_next_read(net::mutable_buffer buffer, Handler handler) {
#if defined(SPUR_DRAINING_READS)
        if (draining_) {
            deadline_->begin();
            drained_ = false;
            stream_.socket().async_read_some(DrainingBuffer(buffer, drained_),
                                             Timed<Handler>{deadline_.get(), std::move(handler)});
            return;
        }
#endif
        start_read(buffer, std::move(handler));
    }

    beast::tcp_stream& stream_;
    std::shared_ptr<LazyDeadline> deadline_;
    std::optional<net::io_context::executor_type> io_;  // the executor, without type erasure
    bool draining_ = false;  // TCP_INQ is set: reads of a next request may use DrainingBuffer
    bool drained_ = false;   // the last such read left the socket empty
};

}  // namespace

Task<> serve_plain(ServerContext& server, std::shared_ptr<ConnectionState> state) {
    TcpTransport transport(state->tcp);
    co_await serve(server, *state, transport);
}

}  // namespace spur::detail
