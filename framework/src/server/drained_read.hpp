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
// recv() that fails whenever the client has not sent its next request yet.
//
// How many bytes a read returned does not say whether the socket is empty: recv() stops
// short of a FIN queued behind the data (end of file comes with the next call, and its
// epoll edge has already fired) and at an urgent mark. So the kernel is asked: with TCP_INQ
// set on the socket (track_unread), every recvmsg() reports in a control message how many
// bytes are still unread, counting a pending FIN as one. Only a read that leaves 0 reports
// exhausted; bytes that arrive later raise an epoll edge, which sets the flag again under
// the descriptor's lock before the read is tried. Without the control message the read
// behaves as Asio's own.
//
// What the count leaves out is a reset queued behind the bytes read: its edge came with
// theirs and is spent. A read that drained the socket therefore says so (DrainingBuffer's
// `drained`), and the transport starts the next read inside the same message with an
// async_wait(wait_read), which Asio registers with EPOLL_CTL_MOD: epoll then reports again
// whatever is pending, a reset included. Only TCP sockets whose TCP_INQ was set take this
// path (never a unix socket: recvmsg() there would accept the descriptors a client passes).
//
// This specialises a class of Asio's detail namespace for a type of spur's own, so it is
// pinned to the Asio it was read against (Boost 1.81, Debian 12's) and to the epoll
// reactor; anywhere else DrainingBuffer is an ordinary buffer and reads behave as Asio's.

#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/asio/error.hpp>
#include <boost/version.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace spur::detail {

/// A read's buffer, and where the read records that it left the socket empty.
struct DrainingBuffer : boost::asio::mutable_buffer {
    DrainingBuffer(boost::asio::mutable_buffer b, bool& drained_flag) noexcept
        : boost::asio::mutable_buffer(b), drained(&drained_flag) {}
    bool* drained;
};

/// Asks the kernel to report, with every read on TCP socket `fd`, how many bytes are left
/// unread (TCP_INQ). Returns false where it cannot (a unix socket, an old kernel): reads on
/// that socket must not use DrainingBuffer.
inline bool track_unread(int fd) noexcept {
    const int on = 1;
    return ::setsockopt(fd, SOL_TCP, TCP_INQ, &on, sizeof on) == 0;
}

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
        iovec iov{o->buffer_.data(), o->buffer_.size()};
        // Room for TCP_INQ's count. A TCP socket carries no descriptors; should one ever come
        // (SCM_RIGHTS), it is opened close-on-exec and closed below.
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(4 * sizeof(int))];
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        ssize_t n;
        do n = ::recvmsg(o->socket_, &message, o->flags_ | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
            o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
            o->bytes_transferred_ = 0;
            return done;
        }
        o->bytes_transferred_ = static_cast<std::size_t>(n);
        int unread = -1;
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ && c->cmsg_len >= CMSG_LEN(sizeof unread)) {
                std::memcpy(&unread, CMSG_DATA(c), sizeof unread);
            } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < count; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    ::close(fd);
                }
            }
        }
        const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
        if (n == 0 && stream && o->buffer_.size() != 0) {  // end of file: Asio's own rule
            o->ec_ = boost::asio::error::eof;
            return done_and_exhausted;
        }
        o->ec_ = boost::system::error_code();
        if (unread == 0 && stream) {
            *o->buffer_.drained = true;
            return done_and_exhausted;
        }
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
