#include "security/hmac.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <atomic>
#include <stdexcept>

namespace spur::detail {

// OpenSSL's one-shot HMAC() looks the algorithm up in its providers and keys a new context on
// every call: 14,000 of the 24,000 instructions of a token's MAC (callgrind). Here the secret
// is keyed once; each thread keeps copies of the last few keys it used and re-initialises one
// per message (EVP_MAC_init without a key keeps the key's inner and outer pads).
namespace {

std::atomic<std::uint64_t> next_id{1};

// A thread's copies, freed (and so wiped) when the thread ends. Four: a CookieSigner checks
// a cookie against its current and previous secrets, beside a Jwt.
struct ThreadKeys {
    struct Slot {
        std::uint64_t id = 0;
        EVP_MAC_CTX* ctx = nullptr;
    };
    std::array<Slot, 4> slots{};
    std::size_t next_victim = 0;
    ~ThreadKeys();
};

// Set once this thread's copies are destroyed: a thread_local destroyed after them (or a
// static, on the main thread) may still sign or verify, and then uses a copy of its own.
// Trivially destructible, so it outlives every destructor that could ask.
thread_local bool keys_gone = false;

ThreadKeys::~ThreadKeys() {
    keys_gone = true;
    for (auto& s : slots) EVP_MAC_CTX_free(s.ctx);
}

[[noreturn]] void failed() { throw std::runtime_error("HMAC-SHA256 failed"); }

// Feeds `parts` to a keyed context and reads the MAC; false if OpenSSL fails.
bool compute(EVP_MAC_CTX* ctx, std::initializer_list<std::string_view> parts, HmacKey::Digest& out) {
    for (std::string_view part : parts)
        if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) != 1) return false;
    std::size_t length = 0;
    return EVP_MAC_final(ctx, out.data(), &length, out.size()) == 1 && length == out.size();
}

}  // namespace

HmacKey::HmacKey(std::string_view secret) : id_(next_id.fetch_add(1, std::memory_order_relaxed)) {
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!hmac) throw std::runtime_error("OpenSSL has no HMAC");
    keyed_ = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);  // the context holds its own reference
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (!keyed_ ||
        EVP_MAC_init(keyed_, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) != 1) {
        EVP_MAC_CTX_free(keyed_);
        throw std::runtime_error("HMAC-SHA256 key setup failed");
    }
}

HmacKey::~HmacKey() { EVP_MAC_CTX_free(keyed_); }

HmacKey::Digest HmacKey::operator()(std::initializer_list<std::string_view> parts) const {
    Digest out{};
    if (keys_gone) {
        EVP_MAC_CTX* copy = nullptr;
        {
            std::lock_guard lock(copying_);
            copy = EVP_MAC_CTX_dup(keyed_);
        }
        const bool ok = copy && compute(copy, parts, out);
        EVP_MAC_CTX_free(copy);
        if (!ok) failed();
        return out;
    }
    thread_local ThreadKeys mine;
    ThreadKeys::Slot* slot = nullptr;
    for (auto& s : mine.slots)
        if (s.id == id_) slot = &s;
    if (slot) {
        if (EVP_MAC_init(slot->ctx, nullptr, 0, nullptr) != 1) {
            slot->id = 0;
            failed();
        }
    } else {
        EVP_MAC_CTX* copy = nullptr;
        {
            std::lock_guard lock(copying_);
            copy = EVP_MAC_CTX_dup(keyed_);
        }
        if (!copy) failed();
        slot = &mine.slots[mine.next_victim];
        mine.next_victim = (mine.next_victim + 1) % mine.slots.size();
        EVP_MAC_CTX_free(slot->ctx);
        *slot = {id_, copy};
    }
    if (!compute(slot->ctx, parts, out)) {
        slot->id = 0;  // its state is unknown: copy the key afresh next time
        failed();
    }
    return out;
}

}  // namespace spur::detail
