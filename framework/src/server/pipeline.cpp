#include "server/pipeline.hpp"

#include <spur/detail/response_access.hpp>

#include "server/transport.hpp"
#include "server/writer.hpp"

#include <array>

namespace spur::detail {

namespace {
// A batch buffer larger than this is not kept between batches: an idle connection should
// not hold on to the memory of its largest pipeline.
constexpr std::size_t kept_capacity = 4 * 1024;
}  // namespace

bool Pipeline::can_hold(const Response& res, const BodyFraming& framing) const noexcept {
    if (framing.stream || !framing.keep_alive || res.status() == 101) return false;
    // Heads are not measured before they are serialized: the batch may pass max_bytes by
    // as much as the last head's size beyond 1 KiB.
    const std::size_t body = framing.send_body ? res.body().size() : 0;
    return responses_ < max_responses && bytes_.size() + body + 1024 <= max_bytes;
}

void Pipeline::hold(ExchangePtr exchange, const BodyFraming& framing) {
    auto& res = *exchange->response;
    ++responses_;
    append_head(ResponseAccess::raw(res), ResponseAccess::preset_wire(res), framing.wire, bytes_);
    if (framing.send_body) {
        bytes_.append(res.body());
        res.bytes_sent(res.body().size());
    }
    // Nothing observes a response without finish hooks: its memory can go back at once
    // (Asio runs the batch's write completion only after other connections' turns, and
    // every connection's batch would otherwise be alive until then).
    if (res.finish_hooks().empty()) return;
    held_.push_back(std::move(exchange));
}

void Pipeline::finish(boost::system::error_code ec, const LogSink& log) noexcept {
    for (auto& exchange : held_) {
        auto& res = *exchange->response;
        if (ec) {
            res.status(499);
            res.bytes_sent(0);
        }
        run_finish_hooks(*exchange->request, res, log);
    }
    held_.clear();
    sent_ = 0;
    responses_ = 0;
    if (bytes_.capacity() > kept_capacity) std::string().swap(bytes_);
    else bytes_.clear();
}

Task<bool> Pipeline::flush(Transport& transport, std::chrono::milliseconds timeout, const LogSink& log) {
    if (empty()) co_return true;
    boost::system::error_code ec;
    if (!all_sent()) {
        flushing_ = true;
        const std::array<net::const_buffer, 1> buffers{unsent()};
        co_await transport.write(buffers, ec, timeout);
        flushing_ = false;
    }
    finish(ec, log);
    co_return !ec;
}

void Pipeline::send_now(Transport& transport, const LogSink& log) noexcept {
    if (empty() || flushing_) return;
    boost::system::error_code ec;
    const std::array<net::const_buffer, 1> held{unsent()};
    sent(transport.write_now(held, ec));
    if (!ec && all_sent()) finish(ec, log);
}

}  // namespace spur::detail
