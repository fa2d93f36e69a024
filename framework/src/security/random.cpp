#include <spur/random.hpp>

#include "security/base64.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace spur {

namespace {

void rand_bytes(unsigned char* p, std::size_t n) {
    if (RAND_bytes(p, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

// OpenSSL's RAND_bytes costs thousands of instructions per call however few bytes it gives
// (provider lookup, locking), which made one UUID per request a sixth of a small request's
// CPU. Small requests are served from a per-thread block of the same CSPRNG output; each
// byte is handed out once and wiped, and a forked child never reuses its parent's block.
//
// A request id or a trace id is drawn here too, and stays a CSPRNG's output: an id a client
// could predict would let it attach its spans to another's trace. What a draw must not cost
// is a system call: the fork check is a counter that a pthread_atfork handler bumps in the
// child, not a getpid() per draw (which glibc does not cache). A child made without fork()'s
// handlers (a raw clone, vfork) must exec before it draws.
std::atomic<std::uint64_t> fork_generation{1};

void after_fork_in_child() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct RandomBlock {
    std::array<unsigned char, 4096> bytes{};
    std::size_t used = bytes.size();
    std::uint64_t generation = 0;  // fork_generation when filled
};

void fill(unsigned char* p, std::size_t n) {
    if (n > 256) return rand_bytes(p, n);
    static const bool watching_forks = ::pthread_atfork(nullptr, nullptr, after_fork_in_child) == 0;
    thread_local RandomBlock block;
    const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (block.used + n > block.bytes.size() || block.generation != generation || !watching_forks) {
        rand_bytes(block.bytes.data(), block.bytes.size());
        block.used = 0;
        block.generation = generation;
    }
    std::memcpy(p, block.bytes.data() + block.used, n);
    OPENSSL_cleanse(block.bytes.data() + block.used, n);
    block.used += n;
}

}  // namespace

std::string random_uuid() {
    std::array<unsigned char, 16> b{};
    fill(b.data(), b.size());
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static constexpr char hex[] = "0123456789abcdef";
    // Written in place: a request id is drawn on every request, and 36 push_backs (each with
    // its capacity check) cost three times these stores.
    std::string out(36, '-');
    char* p = out.data();
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) ++p;
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    return out;
}

void random_bytes(std::span<unsigned char> out) { fill(out.data(), out.size()); }

std::string random_token(std::size_t bytes) {
    std::string raw(bytes, '\0');
    fill(reinterpret_cast<unsigned char*>(raw.data()), raw.size());
    return detail::base64url_encode(raw);
}

}  // namespace spur
