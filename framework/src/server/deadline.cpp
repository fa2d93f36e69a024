#include "server/deadline.hpp"

#include <boost/beast/core/error.hpp>

namespace spur::detail {

void LazyDeadline::expires_after(clock::duration allowance) {
    const auto now = clock::now();
    deadline_ = allowance >= clock::time_point::max() - now ? clock::time_point::max() : now + allowance;
    if (pending_ > 0 && deadline_ < armed_) arm(deadline_);  // shortened while something waits
}

void LazyDeadline::begin() {
    ++pending_;
    if (deadline_ < armed_) arm(deadline_);
}

void LazyDeadline::end(boost::system::error_code& ec) noexcept {
    --pending_;
    if (expired_) ec = beast::error::timeout;
}

void LazyDeadline::detach() noexcept {
    socket_ = nullptr;
    timer_.cancel();
}

void LazyDeadline::arm(clock::time_point at) {
    armed_ = at;
    timer_.expires_at(at);  // a wait already queued is cancelled, or stale by its generation
    timer_.async_wait([self = shared_from_this(), generation = ++generation_](const boost::system::error_code& ec) {
        self->fired(ec, generation);
    });
}

void LazyDeadline::fired(const boost::system::error_code& ec, std::uint64_t generation) {
    if (ec || generation != generation_) return;
    armed_ = clock::time_point::max();
    if (pending_ == 0 || deadline_ == clock::time_point::max() || !socket_) return;  // re-armed by begin()
    if (clock::now() < deadline_) {  // moved on since this wait was armed
        arm(deadline_);
        return;
    }
    expired_ = true;
    boost::system::error_code ignored;
    socket_->close(ignored);  // as Beast does: the waiting operations end, and the connection
}

}  // namespace spur::detail
