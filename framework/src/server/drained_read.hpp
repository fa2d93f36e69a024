#pragma once
// spur::detail::DrainingBuffer — a read buffer that tells Asio's epoll reactor when a read
// has emptied the socket, so that the next read waits for the socket to become readable
// instead of trying first and finding nothing (issue #38: "no wasted read").
//
// Asio 1.81 starts every socket read with a speculative recv(). Its reactor keeps a "worth
// trying" flag per descriptor (try_speculative_): an epoll event sets it, and an operation
// that reports done_and_exhausted clears it, after which the next operation waits for the
// event without a system call (sends do this already, on a short write). Reads report
// exhausted only at end of file, so a keep-alive read started after an answer costs a
// recv() that fails whenever the client has not sent its next request yet. On a stream
// socket a read that returns less than it asked for has taken everything there was: that
// is what this buffer's read reports. Bytes that arrive later raise an epoll edge, which
// sets the flag again before the read is tried (the descriptor's lock orders the two).
//
// This specialises a class of Asio's detail namespace for a type of spur's own, so it is
// pinned to the Asio it was read against (Boost 1.81, Debian 12's) and to the epoll
// reactor; anywhere else DrainingBuffer is an ordinary buffer and reads behave as Asio's.

#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/asio/error.hpp>
#include <boost/version.hpp>

namespace spur::detail {

struct DrainingBuffer : boost::asio::mutable_buffer {
    explicit DrainingBuffer(boost::asio::mutable_buffer b) noexcept : boost::asio::mutable_buffer(b) {}
};

}  // namespace spur::detail

#if BOOST_VERSION == 108100 && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && defined(BOOST_ASIO_HAS_EPOLL)
#define SPUR_DRAINING_READS 1

namespace boost::asio::detail {

// Asio's own reactive_socket_recv_op_base (boost/asio/detail/reactive_socket_recv_op.hpp),
// for one buffer on a stream socket, with one difference: a short read is exhausted too.
template <>
class reactive_socket_recv_op_base<spur::detail::DrainingBuffer> : public reactor_op {
public:
    reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                                 socket_ops::state_type state, const spur::detail::DrainingBuffer& buffer,
                                 socket_base::message_flags flags, func_type complete_func)
        : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
          socket_(socket), state_(state), buffer_(buffer), flags_(flags) {}

    static status do_perform(reactor_op* base) {
        auto* o = static_cast<reactive_socket_recv_op_base*>(base);
        const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
        if (!socket_ops::non_blocking_recv1(o->socket_, o->buffer_.data(), o->buffer_.size(), o->flags_, stream,
                                            o->ec_, o->bytes_transferred_))
            return not_done;
        if (!stream) return done;
        // End of file (Asio's own rule), or fewer bytes than asked for: nothing is left to
        // read until the next epoll event says otherwise. An error leaves the flag alone.
        if (o->ec_ == boost::asio::error::eof) return done_and_exhausted;
        if (!o->ec_ && o->bytes_transferred_ < o->buffer_.size()) return done_and_exhausted;
        return done;
    }

private:
    socket_type socket_;
    socket_ops::state_type state_;
    spur::detail::DrainingBuffer buffer_;
    socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif
