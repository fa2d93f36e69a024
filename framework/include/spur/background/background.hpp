#pragma once
// spur::every and spur::spawn — work an App runs beside its requests: started when it
// serves, cancelled and awaited when it drains.

#include <spur/task.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace spur {

class App;

/// Runs `task` every `interval` while a server serves `app`, the first time one interval
/// after it starts; runs never overlap. A run that throws is logged (with `name`) and the
/// next one still happens. On shutdown the task is cancelled — Asio's terminal cancellation,
/// so the operation it awaits fails with operation_aborted — and awaited within the drain
/// deadline. Throws std::invalid_argument for a non-positive interval and std::logic_error
/// once the app is frozen — serving, or a testing::Client made for it (use spawn() then).
void every(App& app, std::chrono::milliseconds interval, std::function<Task<>()> task, std::string name = "");

/// Starts `task` in the background of `app`, tracked like every(): cancelled and awaited on
/// shutdown, an exception logged, never lost. Queued until serving starts (Serving::start:
/// a testing::Client alone never starts it); thread-safe, so a handler may call
/// `spur::spawn(req.app(), ...)`. Returns false, without running it, once the app is stopping.
bool spawn(App& app, std::function<Task<>()> task, std::string name = "");

}  // namespace spur
