// JWT verification on arbitrary tokens. Oracle: no crash or sanitizer report, and nothing
// verifies — without the key an input cannot carry a valid HMAC.
#include <spur/jwt.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const spur::Jwt jwt(std::string(32, 'k'));
    std::string_view token(reinterpret_cast<const char*>(data), size);
    if (jwt.verify(token)) __builtin_trap();
    return 0;
}
