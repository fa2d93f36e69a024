#include <spur/password.hpp>

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>
#include <stdexcept>

namespace spur {

namespace {
void check_password(std::string_view password) {
    if (password.size() > 72) throw std::invalid_argument("bcrypt passwords are at most 72 bytes");
    if (password.find('\0') != std::string_view::npos) throw std::invalid_argument("password contains a NUL byte");
}
}  // namespace

std::string hash_password(std::string_view password, unsigned cost) {
    check_password(password);
    if (cost < 4 || cost > 31) throw std::invalid_argument("bcrypt cost must be 4..31");
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    // Null random bytes: libxcrypt draws the salt from the OS (getentropy).
    if (!crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting))
        throw std::runtime_error("crypt_gensalt_rn failed");
    auto data = std::make_unique<crypt_data>();
    std::string pw(password);
    const char* out = crypt_rn(pw.c_str(), setting, data.get(), sizeof(crypt_data));
    if (!out || out[0] == '*') throw std::runtime_error("bcrypt hashing failed");
    return out;
}

bool verify_password(std::string_view password, std::string_view hash) {
    if (password.size() > 72 || password.find('\0') != std::string_view::npos) return false;
    if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2') return false;
    auto data = std::make_unique<crypt_data>();
    std::string pw(password), h(hash);
    const char* out = crypt_rn(pw.c_str(), h.c_str(), data.get(), sizeof(crypt_data));
    if (!out || out[0] == '*') return false;
    std::string_view computed(out);
    return computed.size() == hash.size() && CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

bool password_needs_rehash(std::string_view hash, unsigned cost) {
    // "$2b$12$" + 53 characters of salt and digest.
    if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return true;
    if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return true;
    if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return true;
    const unsigned stored = static_cast<unsigned>((hash[4] - '0') * 10 + (hash[5] - '0'));
    return stored < cost;
}

}  // namespace spur
