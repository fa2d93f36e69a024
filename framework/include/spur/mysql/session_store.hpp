#pragma once
// spur::mysql::SessionStore — sessions in a MariaDB/MySQL table, shared by every app instance.

#include <spur/mysql/pool.hpp>
#include <spur/session.hpp>

#include <cstdint>
#include <string>

namespace spur::mysql {

/// Options of SessionStore.
struct SessionStoreOptions {
    /// The table ([A-Za-z0-9_] only); create_table() makes it.
    std::string table = "spur_sessions";
};

/// Keeps sessions in a table: the cookie carries only the (signed) id, so sessions can be
/// revoked (destroy(), or deleting rows) and hold more than a cookie can. A request that only
/// reads its session moves the expiry without rewriting the data, so it never undoes a
/// concurrent request's write; two concurrent writes to one session: the later one wins.
/// Expired rows are never loaded; purge_expired() deletes them (schedule it with spur::every).
class SessionStore : public spur::SessionStore {
public:
    /// Throws std::invalid_argument for a table name outside [A-Za-z0-9_]. The pool must
    /// outlive the store.
    explicit SessionStore(Pool& pool, SessionStoreOptions options = {});

    /// CREATE TABLE IF NOT EXISTS (id, data as JSON text, created_at and expires_at in
    /// milliseconds since the epoch, an index on expires_at). Throws Error.
    Task<> create_table();
    /// Deletes expired sessions in batches of `batch` rows (short locks) and returns how many.
    Task<std::uint64_t> purge_expired(std::uint32_t batch = 1000);

    Task<std::optional<SessionRecord>> load(std::string_view token) override;
    Task<std::string> save(const SessionRecord& record, bool data_changed) override;
    Task<> erase(std::string_view id) override;

private:
    Pool& pool_;
    std::string table_;
};

}  // namespace spur::mysql
