#include <spur/sse/sse.hpp>

#include <spur/app.hpp>
#include <spur/request.hpp>

#include "background/background.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

namespace spur {

namespace net = boost::asio;

namespace {
void check_field(std::string_view name, std::string_view value) {
    if (value.find_first_of("\r\n") != std::string_view::npos || (name == "id" && value.find('\0') != std::string_view::npos))
        throw std::invalid_argument("server-sent event: " + std::string(name) + " must be one line");
}
}  // namespace

std::string format_event(const Event& event) {
    check_field("event", event.event);
    check_field("id", event.id);
    std::string out;
    out.reserve(event.data.size() + event.event.size() + event.id.size() + 32);
    if (!event.event.empty()) out.append("event: ").append(event.event).append("\n");
    if (!event.id.empty()) out.append("id: ").append(event.id).append("\n");
    if (event.retry) out.append("retry: ").append(std::to_string(event.retry->count())).append("\n");
    // Every line of the data is its own data: field; CRLF, CR and LF all end a line.
    std::string_view data = event.data;
    for (;;) {
        auto end = data.find_first_of("\r\n");
        out.append("data: ").append(data.substr(0, end)).append("\n");
        if (end == std::string_view::npos) break;
        end += (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1;
        data.remove_prefix(end);
    }
    out.append("\n");
    return out;
}

// Writes are serialised between the handler and the keep-alive loop, which share the
// connection's executor: a second writer waits on `gate_` until the first is done.
class EventStream::Impl {
public:
    Impl(BodyWriter& writer, std::string last_event_id, std::chrono::milliseconds keep_alive, net::any_io_executor executor)
        : writer_(writer), last_event_id_(std::move(last_event_id)), keep_alive_(keep_alive), gate_(executor),
          timer_(executor), last_write_(std::chrono::steady_clock::now()) {
        gate_.expires_at(net::steady_timer::time_point::max());
    }

    Task<> write(std::string text) {
        while (writing_) {
            boost::system::error_code ec;
            co_await gate_.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
        writing_ = true;
        std::exception_ptr failure;
        try {
            co_await writer_.write(text);
        } catch (...) {
            failure = std::current_exception();
        }
        writing_ = false;
        last_write_ = std::chrono::steady_clock::now();
        gate_.cancel();
        if (failure) std::rethrow_exception(failure);
    }

    // Ends only by cancellation or by a failed write (the client left).
    Task<> keep_alive_loop() {
        if (keep_alive_.count() <= 0) {
            timer_.expires_at(net::steady_timer::time_point::max());
            co_await timer_.async_wait(net::use_awaitable);
        }
        for (;;) {
            timer_.expires_at(last_write_ + keep_alive_);
            co_await timer_.async_wait(net::use_awaitable);
            if (!writing_ && std::chrono::steady_clock::now() - last_write_ >= keep_alive_) co_await write(": keep-alive\n\n");
        }
    }

    std::string_view last_event_id() const noexcept { return last_event_id_; }
    std::uint64_t sent = 0;

private:
    BodyWriter& writer_;
    std::string last_event_id_;
    std::chrono::milliseconds keep_alive_;
    net::steady_timer gate_;
    net::steady_timer timer_;
    std::chrono::steady_clock::time_point last_write_;
    bool writing_ = false;
};

Task<> EventStream::send(const Event& event) {
    co_await impl_.write(format_event(event));
    ++impl_.sent;
}

Task<> EventStream::send(std::string_view data) {
    Event event;
    event.data = std::string(data);
    co_await send(event);
}

Task<> EventStream::comment(std::string_view text) {
    std::string line(": ");
    for (char c : text) line.push_back(c == '\r' || c == '\n' ? ' ' : c);
    line.append("\n\n");
    co_await impl_.write(std::move(line));
}

std::string_view EventStream::last_event_id() const noexcept { return impl_.last_event_id(); }

std::uint64_t EventStream::sent() const noexcept { return impl_.sent; }

namespace {

struct StreamSetup {
    std::function<Task<>(EventStream&)> handler;
    SseOptions options;
    std::string last_event_id;
    App* app = nullptr;
};

// The handler and the keep-alive loop run side by side until the handler returns or a write
// fails; a drain cancels both through the app's background registry, and the farewell event
// then ends the stream so the client sees a clean end rather than a broken connection.
Task<> produce(std::shared_ptr<const StreamSetup> setup, BodyWriter& writer) {
    auto executor = co_await net::this_coro::executor;
    EventStream::Impl impl(writer, setup->last_event_id, setup->options.keep_alive, executor);
    EventStream stream(impl);
    if (setup->options.retry) co_await impl.write("retry: " + std::to_string(setup->options.retry->count()) + "\n\n");

    auto& background = setup->app->extensions().emplace<detail::Background>(setup->app->log());
    auto tracked = background.track(executor);
    bool drained = tracked == nullptr;
    if (tracked) {
        // Two things end the pair early: a drain (the app's registry) and whoever awaits this
        // producer being cancelled (the test client's close()). Both feed one signal.
        net::cancellation_signal stop;
        auto parent = (co_await net::this_coro::cancellation_state).slot();
        auto forward = [&stop](net::cancellation_type type) { stop.emit(type); };
        if (parent.is_connected()) parent.assign(forward);
        auto drain = detail::Background::slot(*tracked);
        drain.assign(forward);
        auto group = net::experimental::make_parallel_group(net::co_spawn(executor, setup->handler(stream), net::deferred),
                                                            net::co_spawn(executor, impl.keep_alive_loop(), net::deferred));
        auto [order, handler_failure, keep_alive_failure] =
            co_await group.async_wait(net::experimental::wait_for_one(), net::bind_cancellation_slot(stop.slot(), net::use_awaitable));
        if (parent.is_connected()) parent.clear();
        drain.clear();
        drained = detail::Background::cancelled(*tracked);
        background.untrack(tracked);
        if (!drained) {
            if (order[0] == 1) std::rethrow_exception(keep_alive_failure);  // the client left
            if (handler_failure) std::rethrow_exception(handler_failure);
            co_return;
        }
    }
    if (setup->options.farewell) co_await impl.write(format_event(*setup->options.farewell));
}

}  // namespace

Response& sse(const Request& req, Response& res, std::function<Task<>(EventStream&)> handler) {
    return sse(req, res, SseOptions{}, std::move(handler));
}

Response& sse(const Request& req, Response& res, SseOptions options, std::function<Task<>(EventStream&)> handler) {
    if (!handler) throw std::invalid_argument("sse(): empty handler");
    if (options.farewell) format_event(*options.farewell);  // a malformed farewell fails now, not at drain time
    auto setup = std::make_shared<StreamSetup>();
    setup->handler = std::move(handler);
    setup->options = std::move(options);
    setup->last_event_id = std::string(req.header("Last-Event-ID"));
    setup->app = &req.app();
    res.type("text/event-stream; charset=utf-8");
    res.set("Cache-Control", "no-cache");
    res.set("X-Accel-Buffering", "no");  // nginx would otherwise buffer the stream
    return res.stream([setup = std::shared_ptr<const StreamSetup>(std::move(setup))](BodyWriter& writer) {
        return produce(setup, writer);
    });
}

}  // namespace spur
