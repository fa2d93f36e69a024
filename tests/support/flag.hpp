#pragma once
// A one-way flag that one thread raises and others wait for: what a test or a blocking job
// waits on instead of polling a bool with sleeps. Every wait has a deadline, so that a test
// whose flag is never raised fails instead of hanging.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace spur::test {

class Flag {
public:
    /// Raises the flag and wakes every waiter; raising again does nothing. Thread-safe.
    void raise() {
        std::lock_guard lock(mutex_);
        raised_ = true;
        changed_.notify_all();
    }
    /// Whether the flag is raised within `limit` (true at once if it already is).
    bool wait(std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [this] { return raised_; });
    }
    bool raised() {
        std::lock_guard lock(mutex_);
        return raised_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool raised_ = false;
};

}  // namespace spur::test
