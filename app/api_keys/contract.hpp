#pragma once
// /api/keys on the wire.

#include <spur/types.hpp>

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace app::api_keys {

/// The account's password again: a stolen session cookie must not mint a long-lived credential.
struct KeyIn {
    spur::String<1, 100> name;
    std::string password;
    std::optional<spur::Int<1, 365>> expires_in_days;  ///< absent or null: 90
};
BOOST_DESCRIBE_STRUCT(KeyIn, (), (name, password, expires_in_days))

struct KeyOut {
    std::uint64_t id = 0;
    std::string name;
    std::string prefix;
    spur::DateTime created_at;
    std::optional<spur::DateTime> last_used_at;  ///< to the minute: written at most once a minute
    spur::DateTime expires_at;
};
BOOST_DESCRIBE_STRUCT(KeyOut, (), (id, name, prefix, created_at, last_used_at, expires_at))

struct KeyCreated {
    bool success = true;
    KeyOut key;
    std::string secret;  ///< shown this once
};
BOOST_DESCRIBE_STRUCT(KeyCreated, (), (success, key, secret))

struct KeyList {
    bool success = true;
    std::vector<KeyOut> items;
};
BOOST_DESCRIBE_STRUCT(KeyList, (), (success, items))

}  // namespace app::api_keys
