#include "security/verified_tokens.hpp"

#include <openssl/crypto.h>

#include <array>
#include <functional>
#include <string>

namespace spur::detail {

// Direct-mapped, one entry a slot: no chains to walk and nothing to grow, so tokens that
// collide (by chance or chosen) only evict each other, and the cost is a full verify. Only
// tokens that passed verification get in, so a client cannot fill it with made-up ones. Per
// thread, like HmacKey's keyed copies: I/O threads share no lock and no cache line.
namespace {

struct Entry {
    std::uint64_t key_id = 0;  // 0: empty (HmacKey ids start at 1)
    std::string token;
    boost::json::object claims;
};

struct ThreadTokens {
    std::array<Entry, VerifiedTokens::slots> entries{};
    ~ThreadTokens() {
        for (auto& e : entries) OPENSSL_cleanse(e.token.data(), e.token.size());  // bearer credentials
    }
};

ThreadTokens& mine() {
    thread_local ThreadTokens tokens;
    return tokens;
}

Entry& slot_of(std::uint64_t key_id, std::string_view token) noexcept {
    const std::size_t h = std::hash<std::string_view>{}(token) ^ (key_id * 0x9E3779B97F4A7C15ull);
    return mine().entries[h % VerifiedTokens::slots];
}

}  // namespace

const boost::json::object* VerifiedTokens::find(std::uint64_t key_id, std::string_view token) noexcept {
    if (token.size() > max_token) return nullptr;
    const Entry& e = slot_of(key_id, token);
    // Constant time over the bytes, as the signature comparison it stands in for: how far a
    // guess matches a remembered token must not show in the time taken.
    if (e.key_id != key_id || e.token.size() != token.size() ||
        CRYPTO_memcmp(e.token.data(), token.data(), token.size()) != 0)
        return nullptr;
    return &e.claims;
}

void VerifiedTokens::remember(std::uint64_t key_id, std::string_view token, const boost::json::object& claims) {
    if (token.size() > max_token) return;
    Entry& e = slot_of(key_id, token);
    e.key_id = 0;  // empty until both parts are in place: an allocation below may throw
    OPENSSL_cleanse(e.token.data(), e.token.size());
    e.token.assign(token);
    e.claims = claims;
    e.key_id = key_id;
}

}  // namespace spur::detail
