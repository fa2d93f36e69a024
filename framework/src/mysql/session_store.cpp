#include <spur/mysql/session_store.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace spur::mysql {

namespace {
using std::chrono::system_clock;

std::int64_t to_ms(system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
system_clock::time_point from_ms(std::int64_t ms) {
    return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(std::chrono::milliseconds(ms)));
}

std::string checked_table(std::string table) {
    if (table.empty() || table.size() > 64) throw std::invalid_argument("session store: invalid table name");
    for (char c : table)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            throw std::invalid_argument("session store: invalid table name \"" + table + "\"");
    return table;
}
}  // namespace

SessionStore::SessionStore(Pool& pool, SessionStoreOptions options) : pool_(pool), table_(checked_table(std::move(options.table))) {}

Task<> SessionStore::create_table() {
    co_await pool_.query("CREATE TABLE IF NOT EXISTS " + table_ +
                         " (id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,"
                         " data MEDIUMTEXT CHARACTER SET utf8mb4 NOT NULL,"
                         " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,"
                         " KEY expires_at (expires_at)) ENGINE=InnoDB");
}

Task<std::uint64_t> SessionStore::purge_expired(std::uint32_t batch) {
    const auto sql = "DELETE FROM " + table_ + " WHERE expires_at <= ? LIMIT " + std::to_string(batch);
    const auto now = to_ms(system_clock::now());
    std::uint64_t total = 0;
    for (;;) {
        auto r = co_await pool_.execute(sql, now);
        total += r.affected_rows;
        if (r.affected_rows < batch) co_return total;
    }
}

Task<std::optional<SessionRecord>> SessionStore::load(std::string_view token) {
    auto r = co_await pool_.execute("SELECT data, created_at, expires_at FROM " + table_ + " WHERE id = ? AND expires_at > ?",
                                    token, to_ms(system_clock::now()));
    if (r.empty()) co_return std::nullopt;
    const auto& row = r.front();
    std::error_code ec;
    auto data = boost::json::parse(row.get<std::string>("data"), ec);
    // Someone edited the row by hand: a new session, not a 500 on every request of this visitor.
    if (ec || !data.is_object()) co_return std::nullopt;
    co_return SessionRecord{std::string(token), std::move(data.get_object()), from_ms(row.get<std::int64_t>("created_at")),
                            from_ms(row.get<std::int64_t>("expires_at"))};
}

Task<std::string> SessionStore::save(const SessionRecord& record, bool data_changed) {
    if (data_changed) {
        co_await pool_.execute("INSERT INTO " + table_ +
                                   " (id, data, created_at, expires_at) VALUES (?, ?, ?, ?)"
                                   " ON DUPLICATE KEY UPDATE data = VALUES(data), expires_at = VALUES(expires_at)",
                               record.id, boost::json::serialize(record.data), to_ms(record.created), to_ms(record.expires));
    } else {
        // Only the expiry moves; a row deleted meanwhile (destroyed, purged) stays deleted.
        co_await pool_.execute("UPDATE " + table_ + " SET expires_at = GREATEST(expires_at, ?) WHERE id = ?",
                               to_ms(record.expires), record.id);
    }
    co_return record.id;
}

Task<> SessionStore::erase(std::string_view id) {
    co_await pool_.execute("DELETE FROM " + table_ + " WHERE id = ?", id);
}

}  // namespace spur::mysql
