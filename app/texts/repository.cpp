#include "texts/repository.hpp"

namespace app::texts {

namespace {
constexpr const char* columns = "SELECT id, title, content, created_at, updated_at FROM texts ";

Text from_row(const spur::mysql::Row& r) {
    return Text{r.get<std::uint64_t>("id"), r.get<std::string>("title"), r.get<std::string>("content"),
                r.get<spur::mysql::DateTime>("created_at"), r.get<spur::mysql::DateTime>("updated_at")};
}

// LIKE treats % and _ as wildcards: escape them (and the escape character) so q is literal.
std::string like_pattern(const std::string& q) {
    std::string out = "%";
    for (char c : q) {
        if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "%";
}
}  // namespace

spur::Task<Text> create_text(spur::mysql::Pool& db, std::uint64_t user, const std::string& title,
                             const std::string& content) {
    auto ins = co_await db.execute("INSERT INTO texts (user_id, title, content) VALUES (?, ?, ?)", user, title, content);
    auto r = co_await db.execute(std::string(columns) + "WHERE id = ?", ins.last_insert_id);
    co_return from_row(r.front());
}

spur::Task<std::optional<Text>> find_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id) {
    auto r = co_await db.execute(std::string(columns) + "WHERE id = ? AND user_id = ?", id, user);
    if (r.empty()) co_return std::nullopt;
    co_return from_row(r.front());
}

spur::Task<Page> list_texts(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t limit, std::uint64_t offset,
                            const std::optional<std::string>& q) {
    Page page;
    spur::mysql::Result rows, count;
    if (q) {
        auto pattern = like_pattern(*q);
        const std::string where = "WHERE user_id = ? AND (title LIKE ? OR content LIKE ?) ";
        rows = co_await db.execute(std::string(columns) + where + "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", user,
                                   pattern, pattern, limit, offset);
        count = co_await db.execute("SELECT COUNT(*) FROM texts " + where, user, pattern, pattern);
    } else {
        rows = co_await db.execute(std::string(columns) + "WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                                   user, limit, offset);
        count = co_await db.execute("SELECT COUNT(*) FROM texts WHERE user_id = ?", user);
    }
    for (const auto& row : rows) page.items.push_back(from_row(row));
    page.total = count.front().get<std::uint64_t>(0);
    co_return page;
}

spur::Task<bool> update_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id,
                             const std::optional<std::string>& title, const std::optional<std::string>& content) {
    auto r = co_await db.execute(
        "UPDATE texts SET title = COALESCE(?, title), content = COALESCE(?, content) WHERE id = ? AND user_id = ?", title,
        content, id, user);
    co_return r.affected_rows > 0;  // matched rows (CLIENT_FOUND_ROWS), so an unchanged text still counts
}

spur::Task<bool> delete_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id) {
    auto r = co_await db.execute("DELETE FROM texts WHERE id = ? AND user_id = ?", id, user);
    co_return r.affected_rows > 0;
}

}  // namespace app::texts
