#pragma once
// spur::detail::VerifiedTokens — a thread's memory of the tokens whose header and signature
// Jwt::verify has accepted, so that a client presenting the same bearer token on every request
// pays for the HMAC and the two JSON parses once, not each time.

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace spur::detail {

struct VerifiedTokens {
    /// Longest token remembered: longer ones are verified in full every time. Each thread
    /// that verifies holds at most `slots` entries (two a set) of max_token bytes and their
    /// parsed claims (a few times the payload's size), plus 2 KiB of hashes; only tokens
    /// this server's key signed get in. A token stays until evicted or its thread ends, even
    /// after it is revoked (revocation is the caller's check), and is wiped then.
    static constexpr std::size_t max_token = 1024;
    static constexpr std::size_t slots = 64;

    /// The claims remembered for `token` signed with key `key_id`, or nullptr. The pointer is
    /// valid until this thread's next remember(). Only the signature and header are vouched
    /// for: the caller checks the times (exp, nbf, iat) against its clock on every use.
    static const boost::json::object* find(std::uint64_t key_id, std::string_view token) noexcept;

    /// Called with a token that verified and its `claims`: the first time only its hash is
    /// kept, and if it comes back before another token's hash takes that place it is
    /// remembered (so find() has it from its third visit), in place of the entry of its set
    /// used least recently. Tokens longer than max_token are not remembered; nothing is once
    /// this thread's memory has been destroyed (a thread_local's destructor may still verify).
    /// May throw std::bad_alloc, after which the entry is empty.
    static void remember(std::uint64_t key_id, std::string_view token, const boost::json::object& claims);
};

}  // namespace spur::detail
