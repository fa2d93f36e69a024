#pragma once
// spur::detail::HmacKey — HMAC-SHA256 with one secret, keyed once: what signs and checks
// tokens (Jwt) and cookies (CookieSigner) on every request.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string_view>

using EVP_MAC_CTX = struct evp_mac_ctx_st;

namespace spur::detail {

class HmacKey {
public:
    using Digest = std::array<unsigned char, 32>;

    /// Keys an HMAC-SHA256 context with `secret`. Throws std::runtime_error if OpenSSL cannot.
    explicit HmacKey(std::string_view secret);
    ~HmacKey();
    HmacKey(const HmacKey&) = delete;
    HmacKey& operator=(const HmacKey&) = delete;

    /// The MAC of the concatenated `parts`. Safe from any thread at once; throws
    /// std::runtime_error if OpenSSL fails. Each calling thread keeps a keyed copy of the last
    /// four keys it used until it ends or uses others: a destroyed key's copies are wiped then,
    /// not when the key is destroyed.
    Digest operator()(std::initializer_list<std::string_view> parts) const;

    /// Tells this key from every other made in the process, even one at the same address.
    std::uint64_t id() const noexcept { return id_; }

private:
    EVP_MAC_CTX* keyed_ = nullptr;  // the template each thread copies; never used to compute
    std::uint64_t id_;              // tells keys apart in a thread's cache (an address is reused)
    // OpenSSL does not promise that two threads may copy one context at once. A thread copies
    // a key once (until its cache evicts it), so this is not on the per-request path.
    mutable std::mutex copying_;
};

}  // namespace spur::detail
