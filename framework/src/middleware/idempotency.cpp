#include <spur/middleware/idempotency.hpp>

#include <spur/request.hpp>
#include <spur/response.hpp>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/string.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace spur::middleware {

namespace {
constexpr std::string_view claim_locals_key = "spur.idempotency";

// SHA-256 over length-prefixed fields, so that ("ab", "c") and ("a", "bc") differ.
class Digest {
public:
    Digest() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 unavailable");
    }
    Digest& add(std::string_view field) {
        const std::string length = std::to_string(field.size()) + ":";
        EVP_DigestUpdate(ctx_.get(), length.data(), length.size());
        EVP_DigestUpdate(ctx_.get(), field.data(), field.size());
        return *this;
    }
    std::string hex() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned size = 0;
        EVP_DigestFinal_ex(ctx_.get(), digest, &size);
        static constexpr char digits[] = "0123456789abcdef";
        std::string out;
        for (unsigned i = 0; i < size; ++i) {
            out += digits[digest[i] >> 4];
            out += digits[digest[i] & 0xf];
        }
        return out;
    }

private:
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// The key of a header value: a bare run of visible ASCII, or an RFC 8941 sf-string (DQUOTE,
// printable ASCII with \" and \\ escaped, DQUOTE) — the draft's form. nullopt when neither.
std::optional<std::string> parse_key(std::string_view value, std::size_t max_length) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    std::string key;
    if (!value.empty() && value.front() == '"') {
        std::size_t i = 1;
        for (; i < value.size() && value[i] != '"'; ++i) {
            char c = value[i];
            if (c == '\\') {
                if (++i == value.size() || (value[i] != '"' && value[i] != '\\')) return std::nullopt;
                c = value[i];
            } else if (c < 0x20 || c > 0x7e) {
                return std::nullopt;
            }
            key += c;
        }
        if (i + 1 != value.size()) return std::nullopt;  // no closing quote, or bytes after it
    } else {
        if (!std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7f; })) return std::nullopt;
        key = value;
    }
    if (key.empty() || key.size() > max_length) return std::nullopt;
    return key;
}

std::string fingerprint(const Request& req) {
    Digest d;
    d.add(req.method()).add(req.path()).add(req.query_string()).add(req.header("Content-Type"));
    // A streamed body is the handler's to read as it arrives: its declared length stands in.
    if (req.body_is_streamed()) d.add("streamed").add(req.header("Content-Length"));
    else d.add("body").add(req.body());
    return d.hex();
}

Task<std::string> default_principal(Request& req) {
    if (!req.has_header("Authorization") && !req.has_header("X-API-Key")) co_return std::string();
    co_return Digest().add(req.header("Authorization")).add(req.header("X-API-Key")).hex();
}

StoredResponse stored(const Response& res, const std::vector<std::string>& names) {
    StoredResponse out;
    out.status = res.status();
    for (const auto& field : res.header()) {
        const auto name = field.name_string();
        const bool kept = std::any_of(names.begin(), names.end(), [&](const std::string& n) { return boost::beast::iequals(n, name); });
        if (kept) out.headers.emplace_back(std::string(name), std::string(field.value()));
    }
    out.body = res.body();
    return out;
}

void replay(Response& res, const StoredResponse& answer) {
    res.status(answer.status);
    // The stored values replace what an outer middleware set before the chain (a default
    // Cache-Control, say), as the handler's own set() did the first time; several stored
    // values of one name (two Links) are all kept.
    for (const auto& [name, value] : answer.headers) res.unset(name);
    for (const auto& [name, value] : answer.headers) res.append(name, value);
    res.set("Idempotent-Replayed", "true");
    // Byte for byte: not send(), which would add a Content-Type the first answer lacked.
    res.body() = answer.body;
    res.end();
}

HttpError invalid_key(const IdempotencyOptions& o) {
    return HttpError(400, "invalid_idempotency_key",
                     o.header + " must be one key of 1 to " + std::to_string(o.max_key_length) +
                         " visible ASCII characters, bare or as a quoted string");
}

struct State {
    IdempotencyStore& store;
    IdempotencyOptions options;
};

// After the handler: keep the answer, or free the key. Never throws: the answer goes out
// whatever the store says (a key left locked is taken over once its lock passes).
Task<> settle(const State& s, Request& req, Response& res, const IdempotencyClaim& held, bool failed) {
    const char* step = "release";
    try {
        if (failed || res.producer() || res.status() >= 500) {
            co_await s.store.release(held.scope, held.key, held.claim);
        } else if (res.body().size() > s.options.max_stored_body) {
            step = "complete_without_response";
            co_await s.store.complete_without_response(held.scope, held.key, held.claim);
        } else {
            step = "complete";
            StoredResponse answer = stored(res, s.options.stored_headers);  // named: GCC 12
            co_await s.store.complete(held.scope, held.key, held.claim, std::move(answer));
        }
    } catch (const std::exception& e) {
        req.log().warn("idempotency store failed; the key stays locked until its lock passes",
                       {{"step", step}, {"error", e.what()}});
    }
}

// store.begin(), shielded from a client that leaves: cut after the store took the key (an
// INSERT that ran) and before it answered, it would leave the key locked by a claim nobody
// holds until `lock` passed, and the client's retry would get 409 meanwhile. A client that
// leaves is only noted while the key is taken; then the key, if taken, is freed and the
// request answered 499 (nullopt), as App::handle answers a client that left. A client gone
// before: 499 at once, nothing taken.
Task<std::optional<IdempotencyBegin>> take_key(const State& s, Request& req, Response& res, std::string scope,
                                               std::string key, std::string print) {
    namespace net = boost::asio;
    if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
        res.status(499);
        co_return std::nullopt;
    }
    bool left = false;
    auto note_leaving = [&left](net::cancellation_type type) {
        if (type != net::cancellation_type::none) left = true;
        return net::cancellation_type::none;
    };
    co_await net::this_coro::reset_cancellation_state(note_leaving);
    std::optional<IdempotencyBegin> begun;
    std::exception_ptr failure;
    try {
        begun = co_await s.store.begin(scope, key, std::move(print), s.options.lock, s.options.ttl);
    } catch (...) {
        failure = std::current_exception();
    }
    co_await net::this_coro::reset_cancellation_state();  // a client that leaves cancels again
    if (left) {
        if (begun && begun->outcome == IdempotencyBegin::Outcome::started) {
            try {
                co_await s.store.release(scope, key, begun->claim);
            } catch (const std::exception& e) {
                req.log().warn("idempotency store failed; the key stays locked until its lock passes",
                               {{"step", "release"}, {"error", e.what()}});
            }
        }
        res.status(499);
        co_return std::nullopt;
    }
    if (failure) std::rethrow_exception(failure);
    co_return begun;
}

Task<> run(const State& s, Request& req, Response& res, Next next) {
    const auto& o = s.options;
    const auto method = req.method();
    const auto sent = req.headers().count(o.header);
    if ((method != "POST" && method != "PATCH") || (sent == 0 && !o.required)) {
        co_await next();
        co_return;
    }
    if (sent == 0) throw HttpError(400, "idempotency_key_required", "This request needs an " + o.header + " header");
    if (sent > 1) throw invalid_key(o);
    auto key = parse_key(req.header(o.header), o.max_key_length);
    if (!key) throw invalid_key(o);
    std::string scope = co_await o.principal(req);
    if (!req.body_is_streamed()) co_await req.read_body();

    std::string print = fingerprint(req);
    Task<std::optional<IdempotencyBegin>> taking = take_key(s, req, res, scope, *key, std::move(print));  // named: GCC 12
    std::optional<IdempotencyBegin> taken = co_await std::move(taking);
    if (!taken) co_return;  // the client left: 499, its key freed
    IdempotencyBegin& begun = *taken;
    using Outcome = IdempotencyBegin::Outcome;
    switch (begun.outcome) {
    case Outcome::replay:
        replay(res, begun.response.value());
        co_return;
    case Outcome::in_flight:
        throw HttpError(409, "idempotency_key_in_use", "A request with this " + o.header + " is still being processed")
            .with_header("Retry-After", "1");
    case Outcome::mismatch:
        throw HttpError(422, "idempotency_key_reused", "This " + o.header + " was used for a different request");
    case Outcome::applied_without_response:
        throw HttpError(409, "idempotency_key_applied",
                        "A request with this " + o.header + " was applied, but its answer was not kept; read the resource");
    case Outcome::started:
        break;
    }

    req.locals().set(claim_locals_key, IdempotencyClaim{std::move(scope), std::move(*key), std::move(begun.claim)});
    std::exception_ptr failure;
    try {
        co_await next();
    } catch (...) {
        failure = std::current_exception();
    }
    // A request whose client left is cancelled, and any co_await of it would throw at once (a
    // sub-coroutine's too); the key must still be freed or its answer kept, so from here on it
    // runs uncancelled — in this coroutine itself, as only the this_coro calls are exempt.
    auto cancellation = co_await boost::asio::this_coro::cancellation_state;
    const bool client_left = cancellation.cancelled() != boost::asio::cancellation_type::none;
    if (client_left) co_await boost::asio::this_coro::reset_cancellation_state();
    const auto* held = idempotency_claim(req);
    Task<> settling = settle(s, req, res, *held, failure != nullptr);
    co_await std::move(settling);
    // With the cancellation reset, App::handle could no longer tell that the client left: it
    // would log the handler's operation_aborted as an unhandled exception and render a 500
    // nobody reads. Answer as it does for a client that left: 499, nothing logged.
    if (failure && client_left) {
        res.status(499);
        co_return;
    }
    if (failure) std::rethrow_exception(failure);
}
}  // namespace

const IdempotencyClaim* idempotency_claim(const Request& req) { return req.locals().get<IdempotencyClaim>(claim_locals_key); }

Middleware idempotency(IdempotencyStore& store, IdempotencyOptions options) {
    if (!is_valid_header_name(options.header)) throw std::invalid_argument("idempotency: invalid header name");
    if (options.lock <= std::chrono::milliseconds(0)) throw std::invalid_argument("idempotency: lock must be positive");
    if (options.ttl <= options.lock) throw std::invalid_argument("idempotency: ttl must be longer than lock");
    if (options.max_key_length == 0) throw std::invalid_argument("idempotency: max_key_length must be positive");
    if (!options.principal) options.principal = default_principal;
    auto state = std::make_shared<const State>(State{store, std::move(options)});
    return [state](Request& req, Response& res, Next next) -> Task<> { return run(*state, req, res, std::move(next)); };
}

}  // namespace spur::middleware
