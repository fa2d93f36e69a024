#pragma once
// spur password hashing — bcrypt ($2b$) through libxcrypt; compatible with Node's bcrypt package.

#include <string>
#include <string_view>

namespace spur {

/// A bcrypt hash of `password` at `cost` (10..31) with a fresh random salt. CPU-heavy by design:
/// call it through spur::offload. Throws std::invalid_argument for a password with a NUL byte
/// or longer than 72 bytes (bcrypt would silently ignore the rest), or a cost outside 4..31.
std::string hash_password(std::string_view password, unsigned cost = 12);

/// Whether `password` matches a bcrypt hash ($2a$, $2b$ or $2y$); false for malformed hashes.
/// Compares in constant time. CPU-heavy: call it through spur::offload.
bool verify_password(std::string_view password, std::string_view hash);

/// Whether `hash` should be replaced by a fresh hash_password(password, cost) once the password
/// is known again (after a successful login): true when it is not a bcrypt hash or its cost is
/// below `cost`, so raising the configured cost upgrades accounts as their owners log in.
bool password_needs_rehash(std::string_view hash, unsigned cost);

}  // namespace spur
