#pragma once
// All SQL for API keys.

#include <spur/mysql/pool.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

namespace app::api_keys {

/// Inserts a key (its SHA-256 only) and returns {id, name, prefix, created_at, last_used_at}.
spur::Task<boost::json::object> create_key(spur::mysql::Pool& db, std::uint64_t user, const std::string& name,
                                           const std::string& prefix, const std::string& hash);
/// The user's keys, newest first, without secrets.
spur::Task<boost::json::array> list_keys(spur::mysql::Pool& db, std::uint64_t user);
/// Deletes the user's key; false if there is no such key of theirs.
spur::Task<bool> delete_key(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id);

}  // namespace app::api_keys
