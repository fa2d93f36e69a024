#pragma once
// A route whose handler takes a slot of the blocking pool (spur::offload) and keeps it until the
// test releases it: for what happens while the pool's queue is full.

#include <spur/app.hpp>
#include <spur/offload.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace spur::test {

class BlockingHold {
public:
    /// GET `path` holds a blocking-pool job until release(), then answers "released".
    void route(App& app, const std::string& path = "/hold") {
        app.get(path, [this](Request&, Response& res) -> Task<> {
            auto wait = [this] {
                std::unique_lock lock(mutex_);
                holding_ = true;
                changed_.notify_all();
                changed_.wait(lock, [this] { return released_; });
            };
            co_await offload(wait);
            res.send("released");
        });
    }
    /// Whether a held job is running within `limit`.
    bool wait_held(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [this] { return holding_; });
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool holding_ = false;
    bool released_ = false;
};

}  // namespace spur::test
