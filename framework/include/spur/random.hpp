#pragma once
// spur random identifiers from OpenSSL's CSPRNG: for ids, tokens and secrets.

#include <cstddef>
#include <span>
#include <string>

namespace spur {

/// A random RFC 4122 version-4 UUID, lowercase ("3b241101-e2bb-4255-8caf-4136c566a962").
std::string random_uuid();
/// `bytes` random bytes, base64url-encoded without padding (32 bytes -> 43 characters).
std::string random_token(std::size_t bytes = 32);
/// Fills `out` with random bytes. Up to 256 bytes are taken from a per-thread block of the
/// CSPRNG's output (a copy, not an OpenSSL call each), so per-request ids stay cheap.
void random_bytes(std::span<unsigned char> out);

}  // namespace spur
