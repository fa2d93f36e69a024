#pragma once
// Runs an io_context the test drives itself until an event, instead of for a guessed time.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <thread>

namespace spur::test {

/// Runs `io` one handler at a time until `done()` holds or `limit` passes; returns done().
/// A stopped io_context (it ran out of work) is restarted: work may still arrive from
/// another thread (an offloaded job, a timer set by a handler that runs next).
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    if (io.stopped()) io.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        if (io.run_one_for(std::chrono::milliseconds(20)) == 0 && io.stopped()) {
            io.restart();
            std::this_thread::yield();  // out of work for now: the event comes from another thread
        }
    }
    return done();
}

}  // namespace spur::test
