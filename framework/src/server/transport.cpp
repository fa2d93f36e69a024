#include "server/transport.hpp"

#include "server/pace.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <stdexcept>

namespace spur::detail {

Task<std::size_t> Transport::read_next(net::mutable_buffer buffer, boost::system::error_code& ec) {
#if !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
#endif
    co_return co_await read_some(buffer, ec);
}

Task<std::size_t> Transport::write(std::span<const net::const_buffer> buffers, boost::system::error_code& ec,
                                   std::chrono::milliseconds allowance) {
    std::array<net::const_buffer, 8> rest;
    if (buffers.size() > rest.size()) throw std::length_error("spur: Transport::write takes at most 8 buffers");
    std::size_t written = write_now(buffers, ec);
    if (ec) co_return written;
    std::size_t count = 0, skip = written;
    for (auto b : buffers) {
        if (skip >= b.size()) {
            skip -= b.size();
            continue;
        }
        b += skip;
        skip = 0;
        rest[count++] = b;
    }
    // The rest waits on the client: it must read at the minimum rate, not merely within one
    // deadline for the whole write (a client that reads nothing held a multi-megabyte
    // response for the old 30 s write timeout).
    // (An unbounded write keeps no pace: milliseconds::max() would overflow the clock's duration.)
    Pace pace(allowance == unbounded ? std::chrono::milliseconds(0) : allowance, min_rate_);
    std::size_t first = 0;
    while (first < count) {
        if (allowance != unbounded) expires_after(pace.begin());
        const std::span<const net::const_buffer> left(rest.data() + first, count - first);
        std::size_t n = co_await write_some(left, ec);
        if (ec) break;
        pace.moved(n);
        written += n;
        while (n > 0) {
            const std::size_t take = std::min(n, rest[first].size());
            rest[first] += take;
            n -= take;
            if (rest[first].size() == 0) ++first;
        }
        while (first < count && rest[first].size() == 0) ++first;
    }
    co_return written;
}

}  // namespace spur::detail
