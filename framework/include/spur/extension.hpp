#pragma once
// spur::Extension and spur::Extensions — the one seam where a feature keeps its state on an
// App and hears the app's lifecycle: Flask's app.extensions and Starlette's app.state, typed.

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace spur {

class App;
class Serving;

/// A feature's state on an App (views, the OpenAPI document, background tasks, yours).
/// Derive from it, override the lifecycle hooks the feature needs, and keep it on the app with
/// `app.extensions().emplace<T>(...)`. The hooks run in the order the extensions were added,
/// each at most once, on the thread that drives the lifecycle (the server's; Serving's caller).
/// frozen, start and drain run with the extensions' lock held (a hook may add another
/// extension, not wait for a thread that does); stop runs without it. An extension lives as
/// long as its App, longer than the executor start() gave it: release timers and sockets on
/// that executor in stop().
class Extension {
public:
    virtual ~Extension() = default;
    /// The app froze (spur::Serving was made): its routes are final, so a document built
    /// from them is complete. Throwing std::logic_error stops the start with that message;
    /// the app then stays unfrozen, and the next attempt asks every extension again.
    virtual void frozen(const App& app) { (void)app; }
    /// Serving starts: long-running work goes onto strands of `executor` (the server's).
    virtual void start(const boost::asio::any_io_executor& executor) { (void)executor; }
    /// A drain began: stop taking new work (readiness answers 503 from here on).
    virtual void drain() noexcept {}
    /// Serving stops: cancel what still runs and call `done` once, from any thread, when it
    /// has finished. The server waits for it up to ServerOptions::drain_timeout; a `done` that
    /// comes later (even after the server is gone) is harmless, and a stop() that throws is
    /// logged and counts as finished. The default has nothing running.
    virtual void stop(std::function<void()> done) { done(); }

protected:
    Extension() = default;
};

/// The extensions of one App, one per type: `app.extensions().get<Views>()`. Lookups take no
/// lock, so a handler may look one up on every request. Adding is thread-safe: a handler may
/// add one while the app serves, and it then hears at once the lifecycle events it missed
/// (start, drain, stop). Extensions live as long as their App and are never removed.
class Extensions {
public:
    Extensions() = default;
    ~Extensions();
    Extensions(const Extensions&) = delete;
    Extensions& operator=(const Extensions&) = delete;

    /// The extension of type T, or nullptr if none was added.
    template <class T>
    T* find() const noexcept {
        return static_cast<T*>(find(typeid(T)));
    }
    /// The extension of type T. Throws std::logic_error if none was added.
    template <class T>
    T& get() const {
        if (auto* found = find<T>()) return *found;
        missing(typeid(T));
    }
    /// The extension of type T, added first (built from `args`) if the app has none; a T that
    /// is already there is returned as it is and `args` are not used.
    template <class T, class... Args>
    T& emplace(Args&&... args) {
        static_assert(std::is_base_of_v<Extension, T>, "an extension derives from spur::Extension");
        if (auto* found = find<T>()) return *found;
        return static_cast<T&>(add(typeid(T), [&] { return std::unique_ptr<Extension>(new T(std::forward<Args>(args)...)); }));
    }

    /// Whether the app froze: routes and setup calls are final.
    bool frozen() const noexcept { return state_.load(std::memory_order_acquire) >= State::frozen; }
    /// Whether a drain has begun (spur::readiness() answers 503 from then on).
    bool draining() const noexcept { return state_.load(std::memory_order_acquire) >= State::draining; }

private:
    friend class Serving;
    friend class App;
    enum class State { setup, frozen, started, draining, stopped };
    struct Node {
        const std::type_info* type;
        std::unique_ptr<Extension> extension;
        Node* next;
    };

    Extension* find(const std::type_info& type) const noexcept;
    Extension& add(const std::type_info& type, const std::function<std::unique_ptr<Extension>()>& make);
    [[noreturn]] static void missing(const std::type_info& type);
    void stop_one(Extension& extension, const std::function<void()>& finished) noexcept;

    // The lifecycle, driven by spur::Serving (and App for freeze); each runs once.
    void freeze(const App& app);
    void start(const boost::asio::any_io_executor& executor);
    void drain() noexcept;
    void stop(std::function<void()> done);

    std::atomic<Node*> head_{nullptr};  // newest first; read without the lock
    std::recursive_mutex mutex_;        // adding and lifecycle steps
    std::vector<Extension*> order_;     // oldest first, for the hooks
    std::atomic<State> state_{State::setup};
    const App* app_ = nullptr;
    std::optional<boost::asio::any_io_executor> executor_;
    struct StopWait;                      // every stop()'s done, until all extensions finished
    std::shared_ptr<StopWait> stop_wait_;  // shared: a late done may outlive the app
};

}  // namespace spur
