#include "api_keys/repository.hpp"

#include <spur/mysql/value.hpp>

namespace app::api_keys {

namespace {
constexpr const char* columns = "SELECT id, name, prefix, created_at, last_used_at FROM api_keys ";

boost::json::object to_json(const spur::mysql::Row& r) {
    auto used = r.get<std::optional<spur::mysql::DateTime>>("last_used_at");
    return {{"id", r.get<std::uint64_t>("id")},
            {"name", r.get<std::string>("name")},
            {"prefix", r.get<std::string>("prefix")},
            {"created_at", r.get<spur::mysql::DateTime>("created_at").to_iso8601()},
            {"last_used_at", used ? boost::json::value(used->to_iso8601()) : boost::json::value(nullptr)}};
}
}  // namespace

spur::Task<boost::json::object> create_key(spur::mysql::Pool& db, std::uint64_t user, const std::string& name,
                                           const std::string& prefix, const std::string& hash) {
    auto ins = co_await db.execute("INSERT INTO api_keys (user_id, name, prefix, key_hash) VALUES (?, ?, ?, ?)", user, name,
                                   prefix, spur::mysql::Blob(hash));
    auto r = co_await db.execute(std::string(columns) + "WHERE id = ?", ins.last_insert_id);
    co_return to_json(r.front());
}

spur::Task<boost::json::array> list_keys(spur::mysql::Pool& db, std::uint64_t user) {
    boost::json::array items;
    for (const auto& row : co_await db.execute(std::string(columns) + "WHERE user_id = ? ORDER BY id DESC", user))
        items.push_back(to_json(row));
    co_return items;
}

spur::Task<bool> delete_key(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id) {
    auto r = co_await db.execute("DELETE FROM api_keys WHERE id = ? AND user_id = ?", id, user);
    co_return r.affected_rows > 0;
}

}  // namespace app::api_keys
