#pragma once
// spur::Task — the coroutine type of handlers and middleware.

#include <boost/asio/awaitable.hpp>

namespace spur {

/// A lazily started coroutine; handlers and middleware return it and `co_await` each other.
template <class T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace spur
