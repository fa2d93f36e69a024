#include <spur/middleware/session.hpp>

#include <spur/random.hpp>
#include <spur/request.hpp>
#include <spur/response.hpp>
#include <spur/signed_cookie.hpp>

#include <stdexcept>

namespace spur {

namespace {
constexpr std::string_view session_locals_key = "spur.session";
}

const boost::json::value* Session::find(std::string_view key) const { return record_.data.if_contains(key); }

void Session::put(std::string_view key, boost::json::value value) {
    record_.data[key] = std::move(value);
    changed_ = true;
}

bool Session::erase(std::string_view key) {
    const bool erased = record_.data.erase(key) != 0;
    changed_ = changed_ || erased;
    return erased;
}

void Session::regenerate() {
    record_.id = random_token(32);
    regenerated_ = true;
}

void Session::destroy() {
    record_.data.clear();
    destroyed_ = true;
}

Session& session(Request& req) {
    auto* s = req.locals().get<Session*>(session_locals_key);
    if (!s) throw std::logic_error("spur::session(): the session middleware does not run for this route");
    return **s;
}

namespace middleware {

namespace {

struct SessionState {
    SessionOptions options;
    CookieSigner signer;
};

Task<> run_session(const SessionState& state, Request& req, Response& res, Next next) {
    using std::chrono::system_clock;
    const auto& o = state.options;
    const auto now = system_clock::now();
    Session s;
    std::string loaded_id;
    if (auto token = state.signer.get(req, o.cookie_name)) {
        if (auto record = co_await o.store->load(*token); record && record->expires > now) {
            loaded_id = record->id;
            s.record() = std::move(*record);
        }
    }
    s.loaded(!loaded_id.empty());
    if (loaded_id.empty()) {
        s.record().id = random_token(32);
        s.record().created = now;
        s.record().expires = now + o.max_age;
    }
    req.locals().set(session_locals_key, &s);
    co_await next();

    auto cookie = o.cookie;
    cookie.secure = cookie.secure || req.secure();
    if (s.destroyed()) {
        if (!loaded_id.empty()) co_await o.store->erase(loaded_id);
        if (req.cookie(o.cookie_name)) res.clear_cookie(o.cookie_name, cookie);
        co_return;
    }
    if (s.regenerated() && !loaded_id.empty()) co_await o.store->erase(loaded_id);
    const bool changed = s.changed() || s.regenerated();
    // A visitor who never stored anything gets no cookie (and no row).
    if (loaded_id.empty() && !changed) co_return;
    auto& record = s.record();
    if (o.rolling) {
        const auto expires = now + o.max_age;
        const auto step = std::min<system_clock::duration>(o.max_age / 10, std::chrono::minutes(1));
        const bool touch = expires - record.expires >= step;
        if (!changed && !touch) co_return;
        record.expires = expires;
    } else if (!changed) {
        co_return;
    }
    const auto token = co_await o.store->save(record, changed);
    cookie.max_age = std::chrono::ceil<std::chrono::seconds>(record.expires - now);
    state.signer.set(res, o.cookie_name, token, cookie);
}

}  // namespace

Middleware session(SessionOptions options) {
    if (!options.store) throw std::invalid_argument("session: no store");
    if (options.max_age <= std::chrono::seconds(0)) throw std::invalid_argument("session: max_age must be positive");
    auto state = std::make_shared<const SessionState>(
        SessionState{options, CookieSigner(options.secret, options.previous_secrets)});
    return [state](Request& req, Response& res, Next next) -> Task<> { return run_session(*state, req, res, std::move(next)); };
}

}  // namespace middleware
}  // namespace spur
