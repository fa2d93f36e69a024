#pragma once
// Background work an App owns: periodic tasks (spur::every) and detached ones (spur::spawn),
// started on the server's executor, cancelled and awaited when it drains. An extension of the
// app, made by the first of them (or by an event stream) that needs it.

#include <spur/extension.hpp>
#include <spur/log.hpp>
#include <spur/task.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace spur::detail {

class Background final : public Extension {
public:
    using TaskFn = std::function<Task<>()>;

    explicit Background(const LogSink& log) : log_(log) {}
    ~Background() override;

    /// Registers a periodic task; it starts with start(). Not thread-safe (setup only).
    void every(std::chrono::milliseconds interval, TaskFn task, std::string name);
    /// Starts `task` now if started, or at start() if not; false once stop() was called.
    bool spawn(TaskFn task, std::string name);
    /// Starts the periodic tasks and the queued spawns, each on a strand of `executor`.
    void start(const boost::asio::any_io_executor& executor) override;
    /// Cancels every running task (terminal cancellation) and calls `done` once the last has
    /// finished — at once if none runs. Later spawns are refused.
    void stop(std::function<void()> done) override;
    /// Tasks running now.
    std::size_t running() const;

    /// Work that is not a task but must end on a drain — an open event stream. Its owner
    /// binds slot() to what it awaits on `executor` and calls untrack() there when done;
    /// stop() emits terminal cancellation on that executor and waits for the untrack.
    /// nullptr once stopping: the work should end at once.
    struct Running;
    std::shared_ptr<Running> track(const boost::asio::any_io_executor& executor);
    void untrack(const std::shared_ptr<Running>& entry) { finished(entry); }
    static boost::asio::cancellation_slot slot(Running& entry);
    /// Whether stop() cancelled `entry` (rather than its work ending by itself).
    static bool cancelled(const Running& entry);

private:
    struct Periodic {
        std::chrono::milliseconds interval;
        TaskFn task;
        std::string name;
    };
    void launch(TaskFn task, std::string name, std::optional<std::chrono::milliseconds> interval);
    void finished(const std::shared_ptr<Running>& entry);

    const LogSink& log_;
    mutable std::mutex mutex_;
    std::optional<boost::asio::any_io_executor> executor_;
    bool stopping_ = false;
    std::vector<Periodic> periodic_;
    std::vector<std::pair<TaskFn, std::string>> queued_;
    std::vector<std::shared_ptr<Running>> running_;
    std::function<void()> on_idle_;
};

}  // namespace spur::detail
