#include "security/verified_tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <string>

namespace spur::detail {

// Two ways a set, so that a handful of clients' tokens rarely push each other out; nothing
// chains or grows, so tokens that collide only evict each other and cost a full verify. Only
// tokens that verified get in, and only on their second visit: the first leaves the token's
// hash in a table of recent visitors (seen), so a stream of different tokens costs a hash
// each, not a copy of each. Per thread, like HmacKey's keyed copies: I/O threads share no
// lock and no cache line.
namespace {

constexpr std::size_t way_count = 2;
constexpr std::size_t set_count = VerifiedTokens::slots / way_count;

struct Entry {
    std::uint64_t key_id = 0;  // 0: empty (HmacKey ids start at 1)
    std::string token;
    boost::json::object claims;
};

struct Set {
    std::array<Entry, way_count> ways;
    std::uint8_t recent = 0;  // the way used last; the other is replaced
};

// Recent visitors: hashes of tokens verified once, indexed by other bits of the hash than
// the sets, so that two tokens sharing a set do not also share (and keep overwriting) a slot.
constexpr std::size_t seen_count = 256;

struct ThreadTokens {
    std::array<Set, set_count> sets{};
    std::array<std::uint64_t, seen_count> seen{};
    std::uint64_t seed[2] = {0, 0};
    ThreadTokens() {
        // Keyed, so that a client cannot aim a made-up token at a chosen set.
        if (RAND_bytes(reinterpret_cast<unsigned char*>(seed), sizeof seed) != 1) {
            seed[0] = reinterpret_cast<std::uintptr_t>(this) * 0x9E3779B97F4A7C15ull;
            seed[1] = ~seed[0];
        }
    }
    ~ThreadTokens();
};

// Set once this thread's tokens are destroyed: a thread_local destroyed after them (or a
// static, on the main thread) may still verify, and then verifies without them. Trivially
// destructible, so it outlives every destructor that could ask.
thread_local bool tokens_gone = false;

ThreadTokens::~ThreadTokens() {
    tokens_gone = true;
    for (auto& set : sets)
        for (auto& e : set.ways) OPENSSL_cleanse(e.token.data(), e.token.size());  // bearer credentials
}

ThreadTokens* mine() noexcept {
    if (tokens_gone) return nullptr;
    thread_local ThreadTokens tokens;
    return &tokens;
}

std::uint64_t load(const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// A token's last 16 characters are its signature's (uniform, where the token verified) —
// enough to spread the tokens that get in; the rest of the bytes are compared, not hashed.
std::uint64_t hash_of(const ThreadTokens& t, std::uint64_t key_id, std::string_view token) noexcept {
    std::uint64_t a = t.seed[0] ^ token.size(), b = t.seed[1] ^ key_id;
    if (token.size() >= 16) {
        a ^= load(token.data() + token.size() - 16);
        b ^= load(token.data() + token.size() - 8);
    } else {
        for (char c : token) a = (a ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
    }
    const unsigned __int128 m = static_cast<unsigned __int128>(a ^ 0x9E3779B97F4A7C15ull) * (b ^ 0xD6E8FEB86659FD93ull);
    return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
}

bool holds(const Entry& e, std::uint64_t key_id, std::string_view token) noexcept {
    // Constant time over the bytes, as the signature comparison it stands in for.
    return e.key_id == key_id && e.token.size() == token.size() &&
           CRYPTO_memcmp(e.token.data(), token.data(), token.size()) == 0;
}

}  // namespace

const boost::json::object* VerifiedTokens::find(std::uint64_t key_id, std::string_view token) noexcept {
    if (token.size() > max_token) return nullptr;
    ThreadTokens* t = mine();
    if (!t) return nullptr;
    Set& set = t->sets[hash_of(*t, key_id, token) % set_count];
    for (std::size_t w = 0; w < way_count; ++w) {
        if (holds(set.ways[w], key_id, token)) {
            set.recent = static_cast<std::uint8_t>(w);
            return &set.ways[w].claims;
        }
    }
    return nullptr;
}

void VerifiedTokens::remember(std::uint64_t key_id, std::string_view token, const boost::json::object& claims) {
    if (token.size() > max_token) return;
    ThreadTokens* t = mine();
    if (!t) return;
    const std::uint64_t h = hash_of(*t, key_id, token);
    Set& set = t->sets[h % set_count];
    std::uint64_t& seen = t->seen[(h >> 32) % seen_count];
    if (seen != h) {  // first visit: only its hash
        seen = h;
        return;
    }
    const std::size_t w = set.recent == 0 ? 1 : 0;
    Entry& e = set.ways[w];
    e.key_id = 0;  // empty until both parts are in place: an allocation below may throw
    OPENSSL_cleanse(e.token.data(), e.token.size());
    e.token.assign(token);
    e.claims = claims;
    e.key_id = key_id;
    set.recent = static_cast<std::uint8_t>(w);
    seen = 0;
}

}  // namespace spur::detail
