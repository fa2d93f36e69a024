// spur::middleware::MemoryIdempotencyStore: keys in a map under one mutex, with an index by
// expiry so that the expired ones can be dropped oldest first when a bound is reached.
#include <spur/middleware/idempotency.hpp>

#include <spur/http_error.hpp>
#include <spur/random.hpp>

#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace spur::middleware {

namespace {
using Clock = std::chrono::steady_clock;

struct Entry {
    enum class State { running, applied, answered };
    std::string scope;
    std::string fingerprint;
    std::string claim;
    State state = State::running;
    Clock::time_point locked_until;
    Clock::time_point expires;
    std::optional<StoredResponse> response;
    std::size_t bytes = 0;  // of response, counted in Impl::bytes
};

// The scope's length first: no (scope, key) pair can spell another's id.
std::string id_of(const std::string& scope, const std::string& key) { return std::to_string(scope.size()) + ":" + scope + key; }

std::size_t size_of(const StoredResponse& r) {
    std::size_t n = r.body.size();
    for (const auto& [name, value] : r.headers) n += name.size() + value.size();
    return n;
}
}  // namespace

struct MemoryIdempotencyStore::Impl {
    MemoryIdempotencyStoreOptions options;
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
    std::set<std::pair<Clock::time_point, std::string>> by_expiry;  // (expires, id) of every entry
    std::unordered_map<std::string, std::multiset<Clock::time_point>> by_scope;  // each scope's expiries
    std::size_t bytes = 0;

    using Iterator = std::unordered_map<std::string, Entry>::iterator;

    void erase(Iterator it) {
        by_expiry.erase({it->second.expires, it->first});
        forget_expiry(it->second.scope, it->second.expires);
        bytes -= it->second.bytes;
        entries.erase(it);
    }
    void forget_expiry(const std::string& scope, Clock::time_point t) {
        auto found = by_scope.find(scope);
        found->second.erase(found->second.find(t));
        if (found->second.empty()) by_scope.erase(found);
    }
    std::size_t held_by(const std::string& scope) const {
        auto found = by_scope.find(scope);
        return found == by_scope.end() ? 0 : found->second.size();
    }
    void drop_expired(Clock::time_point now) {
        while (!by_expiry.empty() && by_expiry.begin()->first <= now) erase(entries.find(by_expiry.begin()->second));
    }
    void expire_at(Iterator it, Clock::time_point t) {
        by_expiry.erase({it->second.expires, it->first});
        forget_expiry(it->second.scope, it->second.expires);
        it->second.expires = t;
        by_expiry.emplace(t, it->first);
        by_scope[it->second.scope].insert(t);
    }
    // The entry holding `claim`, or entries.end().
    Iterator held(const std::string& scope, const std::string& key, const std::string& claim) {
        auto it = entries.find(id_of(scope, key));
        return it != entries.end() && it->second.claim == claim ? it : entries.end();
    }
};

MemoryIdempotencyStore::MemoryIdempotencyStore(MemoryIdempotencyStoreOptions options) : impl_(std::make_unique<Impl>()) {
    if (options.max_keys == 0 || options.max_keys_per_scope == 0)
        throw std::invalid_argument("MemoryIdempotencyStore: max_keys and max_keys_per_scope must be positive");
    if (!options.now) options.now = [] { return Clock::now(); };
    impl_->options = std::move(options);
}

MemoryIdempotencyStore::~MemoryIdempotencyStore() = default;

Task<IdempotencyBegin> MemoryIdempotencyStore::begin(std::string scope, std::string key, std::string fingerprint,
                                                     std::chrono::milliseconds lock, std::chrono::seconds ttl) {
    auto& m = *impl_;
    std::lock_guard guard(m.mutex);
    const auto now = m.options.now();
    auto id = id_of(scope, key);
    auto it = m.entries.find(id);
    if (it != m.entries.end() && it->second.expires <= now) {
        m.erase(it);
        it = m.entries.end();
    }
    IdempotencyBegin begun;
    if (it == m.entries.end()) {
        if (m.held_by(scope) >= m.options.max_keys_per_scope) m.drop_expired(now);
        if (m.held_by(scope) >= m.options.max_keys_per_scope) {
            // This principal's share is spent; the others' is not touched.
            const auto wait = std::chrono::ceil<std::chrono::seconds>(*m.by_scope.at(scope).begin() - now);
            throw HttpError(429, "too_many_idempotency_keys", "This client holds too many idempotency keys; try again later")
                .with_header("Retry-After", std::to_string(std::max<std::int64_t>(1, wait.count())));
        }
        if (m.entries.size() >= m.options.max_keys) m.drop_expired(now);
        if (m.entries.size() >= m.options.max_keys) {
            const auto wait = std::chrono::ceil<std::chrono::seconds>(m.by_expiry.begin()->first - now);
            throw HttpError(503, "idempotency_store_full", "Too many idempotency keys are held; try again later")
                .with_header("Retry-After", std::to_string(std::max<std::int64_t>(1, wait.count())));
        }
        begun.claim = random_token(16);
        Entry e;
        e.scope = scope;
        e.fingerprint = std::move(fingerprint);
        e.claim = begun.claim;
        e.locked_until = now + lock;
        e.expires = now + ttl;
        m.by_expiry.emplace(e.expires, id);
        m.by_scope[scope].insert(e.expires);
        m.entries.emplace(std::move(id), std::move(e));
        co_return begun;
    }
    auto& e = it->second;
    using Outcome = IdempotencyBegin::Outcome;
    if (e.fingerprint != fingerprint) {
        begun.outcome = Outcome::mismatch;
    } else if (e.state == Entry::State::answered) {
        begun.outcome = Outcome::replay;
        begun.response = e.response;
    } else if (e.state == Entry::State::applied) {
        begun.outcome = Outcome::applied_without_response;
    } else if (e.locked_until > now) {
        begun.outcome = Outcome::in_flight;
    } else {
        // Its holder never answered within the lock: this request takes the key over, and the
        // old claim can no longer complete or release it.
        begun.claim = random_token(16);
        e.claim = begun.claim;
        e.locked_until = now + lock;
        m.expire_at(it, now + ttl);
    }
    co_return begun;
}

Task<> MemoryIdempotencyStore::complete(std::string scope, std::string key, std::string claim, StoredResponse response) {
    auto& m = *impl_;
    std::lock_guard guard(m.mutex);
    auto it = m.held(scope, key, claim);
    if (it == m.entries.end()) co_return;
    m.bytes -= it->second.bytes;
    it->second.bytes = 0;
    const auto size = size_of(response);
    if (m.bytes + size > m.options.max_bytes) {
        m.drop_expired(m.options.now());
        it = m.held(scope, key, claim);
        if (it == m.entries.end()) co_return;
    }
    if (m.bytes + size > m.options.max_bytes) {  // kept as applied: a retry must not run again
        it->second.state = Entry::State::applied;
        co_return;
    }
    it->second.state = Entry::State::answered;
    it->second.response = std::move(response);
    it->second.bytes = size;
    m.bytes += size;
}

Task<> MemoryIdempotencyStore::complete_without_response(std::string scope, std::string key, std::string claim) {
    auto& m = *impl_;
    std::lock_guard guard(m.mutex);
    auto it = m.held(scope, key, claim);
    if (it == m.entries.end()) co_return;
    m.bytes -= it->second.bytes;
    it->second.bytes = 0;
    it->second.response.reset();
    it->second.state = Entry::State::applied;
}

Task<> MemoryIdempotencyStore::release(std::string scope, std::string key, std::string claim) {
    auto& m = *impl_;
    std::lock_guard guard(m.mutex);
    auto it = m.held(scope, key, claim);
    if (it != m.entries.end() && it->second.state == Entry::State::running) m.erase(it);
    co_return;
}

std::size_t MemoryIdempotencyStore::size() const {
    std::lock_guard guard(impl_->mutex);
    return impl_->entries.size();
}

std::size_t MemoryIdempotencyStore::bytes() const {
    std::lock_guard guard(impl_->mutex);
    return impl_->bytes;
}

}  // namespace spur::middleware
