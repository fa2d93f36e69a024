#include <spur/middleware/timeout.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

namespace spur::middleware {

namespace {
constexpr std::string_view deadline_key = "spur.timeout.deadline";
}

std::optional<std::chrono::steady_clock::time_point> deadline_of(const Request& req) {
    const auto* at = req.locals().get<std::chrono::steady_clock::time_point>(deadline_key);
    return at ? std::optional(*at) : std::nullopt;
}

Middleware timeout(std::chrono::milliseconds limit, int status) {
    if (status != 503 && status != 504) throw std::invalid_argument("timeout status must be 503 or 504");
    return [limit, status](Request& req, Response&, Next next) -> Task<> {
        namespace net = boost::asio;
        auto executor = co_await net::this_coro::executor;
        net::steady_timer deadline(executor, limit);
        // An inner timeout can only shorten what an outer one allows.
        const auto outer = deadline_of(req);
        if (!outer || deadline.expiry() < *outer) req.locals().set(deadline_key, deadline.expiry());
        // wait_for_one: the first to finish — success or exception — wins; the other is
        // cancelled and awaited, so no work outlives this middleware. (The `||` operator
        // would wait for the first *success* and turn a quick handler error into a timeout.)
        auto [order, failure, timer_ec] =
            co_await net::experimental::make_parallel_group(net::co_spawn(executor, next(), net::deferred),
                                                            deadline.async_wait(net::deferred))
                .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
        (void)timer_ec;
        if (order[0] == 0) {
            if (failure) std::rethrow_exception(failure);
            co_return;
        }
        throw HttpError(status, "timeout", "The request took too long");
    };
}

}  // namespace spur::middleware
