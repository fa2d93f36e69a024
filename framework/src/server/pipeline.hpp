#pragma once
// Responses to pipelined requests, held back so that a batch of them leaves in one write.

#include <spur/log.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>

#include "server/finish.hpp"
#include "server/exchange.hpp"
#include "util/net.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace spur::detail {

class Transport;

/// The serialized responses of requests whose successors were already in the read buffer,
/// in request order, and their exchanges: the finish hooks run only once the bytes are
/// written.
class Pipeline {
public:
    /// At most this many bytes or responses are held; a response that would go beyond is
    /// written together with the held ones instead.
    static constexpr std::size_t max_bytes = 64 * 1024;
    static constexpr std::size_t max_responses = 32;

    bool empty() const noexcept { return bytes_.empty(); }
    /// Whether `res` (framed as `framing`) can join the batch instead of being written now.
    bool can_hold(const Response& res, const BodyFraming& framing) const noexcept;
    /// Appends the status line, headers and body of the exchange's response and keeps the
    /// exchange until finish() if its response has finish hooks.
    void hold(ExchangePtr exchange, const BodyFraming& framing);
    /// The bytes not written yet.
    net::const_buffer unsent() const noexcept { return net::buffer(bytes_.data() + sent_, bytes_.size() - sent_); }
    /// Records that the first `n` unsent bytes were written.
    void sent(std::size_t n) noexcept { sent_ += n; }
    /// Whether every held byte has been written.
    bool all_sent() const noexcept { return sent_ == bytes_.size(); }
    /// Runs the held responses' finish hooks in request order — as 499 if `ec` says the
    /// write failed — and empties the batch.
    void finish(boost::system::error_code ec, const LogSink& log) noexcept;

    /// Writes what is held and finishes the batch; false if the write failed (the connection
    /// must close). Called before anything waits for the client: it may be waiting for those
    /// answers before it sends more.
    Task<bool> flush(Transport& transport, std::chrono::milliseconds timeout, const LogSink& log);
    /// Writes what the socket takes at once, without waiting (a later request of the batch
    /// waits on something): nothing while flush() writes. Finishes the batch if all went.
    void send_now(Transport& transport, const LogSink& log) noexcept;

private:
    std::string bytes_;
    std::size_t sent_ = 0;
    std::size_t responses_ = 0;
    bool flushing_ = false;  // flush()'s write is in flight
    std::vector<ExchangePtr> held_;
};

}  // namespace spur::detail
