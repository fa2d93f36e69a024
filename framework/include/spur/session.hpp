#pragma once
// spur::Session — per-visitor state kept between requests, and the stores that keep it.

#include <spur/task.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spur {

class Request;

/// What a store keeps of one session.
struct SessionRecord {
    std::string id;  ///< 256 random bits, base64url; never shown to other visitors
    boost::json::object data;
    std::chrono::system_clock::time_point created{};
    std::chrono::system_clock::time_point expires{};
};

/// Where sessions live. The session middleware signs whatever token save() returns into the
/// cookie and hands the verified token back to load(), so a store never sees a forged one.
/// Implementations must be safe to call from several I/O threads at once.
class SessionStore {
public:
    virtual ~SessionStore() = default;
    /// The session `token` names, or nullopt if the store does not know it or it has expired.
    virtual Task<std::optional<SessionRecord>> load(std::string_view token) = 0;
    /// Keeps `record` and returns the token the cookie carries. `data_changed` is false when only
    /// the expiry moves (a rolling session that was read, not written): a store keeping data on
    /// the server then leaves the data alone, so a concurrent write to the same session survives.
    virtual Task<std::string> save(const SessionRecord& record, bool data_changed) = 0;
    /// Forgets session `id` (destroy(), and the old id on regenerate()).
    virtual Task<> erase(std::string_view id) = 0;
};

/// Keeps the whole session in the cookie (like Flask's default): no server state, any number
/// of instances. The data is signed, not encrypted — the visitor can read it, not change it —
/// and a session cannot be revoked before it expires (destroy() only clears the cookie). The
/// cookie must stay under 4 KiB: save() throws std::length_error (a 500) beyond 4000 bytes.
class CookieSessionStore : public SessionStore {
public:
    Task<std::optional<SessionRecord>> load(std::string_view token) override;
    Task<std::string> save(const SessionRecord& record, bool data_changed) override;
    Task<> erase(std::string_view id) override;
};

/// The session of one request, loaded by spur::middleware::session() and saved by it after
/// the handler returns (not when the handler throws). Reading does not write; set() and erase()
/// mark it changed. A new visitor gets a cookie only once something is stored.
class Session {
public:
    /// The value under `key`, or nullptr.
    const boost::json::value* find(std::string_view key) const;
    /// The value under `key` converted to T (Boost.JSON's value_to, so described structs work);
    /// nullopt if absent or not convertible.
    template <class T>
    std::optional<T> get(std::string_view key) const {
        const auto* v = find(key);
        if (!v) return std::nullopt;
        auto r = boost::json::try_value_to<T>(*v);
        if (!r) return std::nullopt;
        return std::move(*r);
    }
    /// Stores `value` under `key`: anything Boost.JSON's value_from converts (strings, numbers,
    /// containers, described structs, JSON values).
    template <class T>
    void set(std::string_view key, T&& value) {
        put(key, boost::json::value_from(std::forward<T>(value)));
    }
    /// Removes `key`; whether it was there.
    bool erase(std::string_view key);
    /// Everything stored.
    const boost::json::object& data() const noexcept { return record_.data; }

    /// The session id (what the server-side store keys the session by).
    const std::string& id() const noexcept { return record_.id; }
    /// Whether the request came without a valid session (no cookie, tampered, or expired).
    bool is_new() const noexcept { return is_new_; }
    /// When the session ends unless a request moves it (rolling expiry).
    std::chrono::system_clock::time_point expires() const noexcept { return record_.expires; }

    /// Gives the session a new id, keeping its data, and forgets the old one: call it on login
    /// so an id planted before login (session fixation) is worthless after it.
    void regenerate();
    /// Ends the session: its data and stored record are removed and the cookie is cleared.
    void destroy();

    // State the middleware reads and writes.
    SessionRecord& record() noexcept { return record_; }
    void loaded(bool from_store) noexcept { is_new_ = !from_store; }
    bool changed() const noexcept { return changed_; }
    bool regenerated() const noexcept { return regenerated_; }
    bool destroyed() const noexcept { return destroyed_; }

private:
    void put(std::string_view key, boost::json::value value);
    SessionRecord record_;
    bool is_new_ = true;
    bool changed_ = false;
    bool regenerated_ = false;
    bool destroyed_ = false;
};

/// The session of `req`. Throws std::logic_error if spur::middleware::session() does not run
/// for this request.
Session& session(Request& req);

}  // namespace spur
