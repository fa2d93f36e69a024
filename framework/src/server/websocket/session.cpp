#include "server/websocket/session.hpp"

#include "util/exception_message.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

namespace spur::detail {

WsSession::WsSession(net::any_io_executor executor, const WebSocketOptions& options, const LogSink& log)
    : executor_(std::move(executor)), options_(options), log_(log), signal_(executor_) {
    signal_.expires_at(net::steady_timer::time_point::max());
}

Task<> WsSession::wait() {
    boost::system::error_code ec;
    co_await signal_.async_wait(net::redirect_error(net::use_awaitable, ec));
}

void WsSession::notify() { signal_.cancel(); }

void WsSession::enqueue(Outgoing item) {
    if (item.data) queued_bytes_ += item.data->size();
    queue_.push_back(std::move(item));
    notify();
}

void WsSession::end() {
    ended_ = true;
    notify();
}

Task<> WsSession::run(const WsHandler& handler, Request& request) {
    writer_running_ = true;
    auto self = shared_from_this();
    net::co_spawn(executor_, writer(), [self](std::exception_ptr) {
        self->writer_running_ = false;
        self->end();
    });
    WebSocket socket(self, request);
    std::string failure;
    try {
        co_await handler(socket);
    } catch (...) {
        failure = exception_message(std::current_exception());
    }
    if (!failure.empty()) {
        log_(LogLevel::error, fmt::format("websocket handler for {} failed: {}", request.path(), failure));
        close(WsCloseCode::internal_error, "");
    } else {
        close(WsCloseCode::normal, "");
    }
    // The writer sends what is queued, then the close frame, and waits for the client's.
    while (writer_running_) co_await wait();
}

Task<std::optional<WsMessage>> WsSession::receive() {
    if (ended_) co_return std::nullopt;
    WsMessage message;
    auto ec = co_await read_message(message.data, message.binary);
    if (ec) {
        if (auto code = received_close_code()) peer_close_code_ = code;
        end();
        co_return std::nullopt;
    }
    co_return message;
}

Task<bool> WsSession::send(std::string_view data, bool binary) {
    if (!is_open()) co_return false;
    Outgoing item;
    item.data = std::make_shared<const std::string>(data);
    item.binary = binary;
    enqueue(std::move(item));
    // Backpressure: the handler waits while the client is behind.
    while (queued_bytes_ > options_.max_send_queue_bytes && !ended_) co_await wait();
    co_return !ended_;
}

void WsSession::close(WsCloseCode code, std::string reason) {
    if (!is_open()) return;
    closing_ = true;
    Outgoing item;
    item.is_close = true;
    item.code = code;
    item.reason = std::move(reason);
    enqueue(std::move(item));
}

void WsSession::post(std::shared_ptr<const std::string> message, bool binary) {
    net::post(executor_, [self = shared_from_this(), message = std::move(message), binary]() mutable {
        if (!self->is_open()) return;
        if (self->queued_bytes_ + message->size() > self->options_.max_send_queue_bytes) {
            // A client that cannot keep up must not make the server buffer without bound.
            // Its socket is full, so not even a close frame would get through.
            self->log_(LogLevel::warn, "websocket client too slow: send queue full, disconnecting");
            self->close_transport();
            self->end();
            return;
        }
        Outgoing item;
        item.data = std::move(message);
        item.binary = binary;
        self->enqueue(std::move(item));
    });
}

void WsSession::post_close(WsCloseCode code, std::string reason) {
    net::post(executor_, [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
        self->close(code, std::move(reason));
    });
}

Task<> WsSession::writer() {
    for (;;) {
        while (queue_.empty() && !ended_) co_await wait();
        if (ended_) break;
        Outgoing item = std::move(queue_.front());
        queue_.pop_front();
        boost::system::error_code ec;
        if (item.is_close) {
            ec = co_await write_close(item.code, item.reason);
            if (auto code = received_close_code()) peer_close_code_ = code;
            end();
            break;
        }
        ec = co_await write_message(*item.data, item.binary);
        queued_bytes_ -= item.data->size();
        notify();  // senders waiting for room
        if (ec) {
            end();
            break;
        }
    }
    // Whatever is still queued can no longer be delivered.
    queue_.clear();
    queued_bytes_ = 0;
}

}  // namespace spur::detail
