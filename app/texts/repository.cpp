#include "texts/repository.hpp"

namespace app::texts {

namespace {
constexpr const char* columns = "SELECT id, title, content, created_at, updated_at, version FROM texts ";
constexpr const char* summary_columns = "SELECT id, title, size, excerpt, created_at, updated_at FROM texts ";

// What one user stores: texts and content bytes.
struct Usage {
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
};
BOOST_DESCRIBE_STRUCT(Usage, (), (n, bytes))

// The fields of a text a write checks under its row lock.
struct Current {
    std::uint64_t size = 0;
    std::uint64_t version = 0;
};
BOOST_DESCRIBE_STRUCT(Current, (), (size, version))

struct Count {
    std::uint64_t n = 0;
};
BOOST_DESCRIBE_STRUCT(Count, (), (n))

// The first `n` code points of valid UTF-8 (the handlers validate content before it gets here).
std::string excerpt_of(std::string_view s, std::size_t n = excerpt_length) {
    std::size_t i = 0;
    for (std::size_t count = 0; i < s.size(); ++i) {
        const bool lead = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
        if (lead && count++ == n) break;
    }
    return std::string(s.substr(0, i));
}

// Locks the user's row until the transaction ends, then reads what they store now.
spur::Task<Usage> usage_locked(spur::mysql::Connection& tx, std::uint64_t user) {
    co_await tx.execute("SELECT id FROM users WHERE id = ? FOR UPDATE", user);
    auto usage = co_await tx.query_one_as<Usage>(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS UNSIGNED) AS bytes FROM texts WHERE user_id = ?", user);
    co_return usage.value();  // an aggregate without GROUP BY: always one row
}

std::string bytes_message(const Quota& quota) {
    return "Your texts may hold " + std::to_string(quota.max_bytes) + " bytes in all; delete some or make them shorter";
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
                             const std::string& content, const Quota& quota,
                             std::function<spur::Task<>(spur::mysql::Connection&)> also) {
    const std::string excerpt = excerpt_of(content);
    auto insert = [&](spur::mysql::Connection& tx) -> spur::Task<std::uint64_t> {
        const Usage usage = co_await usage_locked(tx, user);
        const std::uint64_t texts = usage.n, bytes = usage.bytes;
        if (texts + 1 > quota.max_texts)
            throw QuotaExceeded("You may keep at most " + std::to_string(quota.max_texts) + " texts; delete some first");
        if (bytes + content.size() > quota.max_bytes) throw QuotaExceeded(bytes_message(quota));
        auto ins = co_await tx.execute("INSERT INTO texts (user_id, title, content, size, excerpt) VALUES (?, ?, ?, ?, ?)",
                                       user, title, content, content.size(), excerpt);
        if (also) co_await also(tx);
        co_return ins.last_insert_id;
    };
    const std::uint64_t id = co_await db.transaction(insert);
    auto text = co_await db.query_one_as<Text>(spur::mysql::idempotent, std::string(columns) + "WHERE id = ?", id);
    co_return std::move(text.value());
}

spur::Task<std::optional<Text>> find_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id) {
    co_return co_await db.query_one_as<Text>(spur::mysql::idempotent,
                                             std::string(columns) + "WHERE id = ? AND user_id = ?", id, user);
}

namespace {
// The account's row, its token state, and the text if it is the account's (LEFT JOIN: NULLs).
struct TextWithToken {
    std::uint32_t generation = 0;
    bool revoked = false;
    std::optional<std::uint64_t> id;
    std::optional<std::string> title;
    std::optional<std::string> content;
    std::optional<spur::mysql::DateTime> created_at;
    std::optional<spur::mysql::DateTime> updated_at;
    std::optional<std::uint64_t> version;
};
BOOST_DESCRIBE_STRUCT(TextWithToken, (), (generation, revoked, id, title, content, created_at, updated_at, version))
}  // namespace

spur::Task<CheckedText> find_text_checked(spur::mysql::Pool& db, std::uint64_t user, const std::string& jti, std::uint64_t id) {
    auto row = co_await db.query_one_as<TextWithToken>(
        spur::mysql::idempotent,
        "SELECT u.token_generation AS generation, EXISTS(SELECT 1 FROM revoked_tokens WHERE jti = ?) AS revoked, "
        "t.id, t.title, t.content, t.created_at, t.updated_at, t.version "
        "FROM users u LEFT JOIN texts t ON t.id = ? AND t.user_id = u.id WHERE u.id = ?",
        jti, id, user);
    CheckedText out;
    if (!row) co_return out;
    out.token = auth::TokenState{row->generation, row->revoked};
    if (row->id) {
        out.text = Text{*row->id, std::move(*row->title), std::move(*row->content), *row->created_at, *row->updated_at,
                        *row->version};
    }
    co_return out;
}

spur::Task<Page> list_texts(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t limit, std::uint64_t offset,
                            const std::optional<std::string>& q) {
    Page page;
    std::vector<Summary> rows;
    // One row more than the page tells whether another page follows, without counting.
    if (q) {
        // Compared as bytes after LOWER(): MariaDB runs a binary '%literal%' LIKE as a
        // Boyer-Moore scan, the collation's LIKE character by character (≈1 s per MiB for a
        // 100-character q that almost matches; docs/security.md). The prefix bounds the bytes
        // read per text, so max_statement_time, checked between rows, stops a search in time.
        static const std::string where = "WHERE user_id = ? AND (CAST(LOWER(title) AS BINARY) LIKE CAST(LOWER(?) AS BINARY) OR "
                                         "CAST(LOWER(LEFT(content, " + std::to_string(search_prefix) +
                                         ")) AS BINARY) LIKE CAST(LOWER(?) AS BINARY)) ";
        auto pattern = like_pattern(*q);
        rows = co_await db.query_as<Summary>(
            spur::mysql::idempotent,
            std::string(summary_columns) + where + "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", user, pattern,
            pattern, limit + 1, offset);
    } else {
        rows = co_await db.query_as<Summary>(
            spur::mysql::idempotent,
            std::string(summary_columns) + "WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", user,
            limit + 1, offset);
        // An index range of one account's rows, at most MAX_TEXTS_PER_USER of them.
        auto count = co_await db.query_one_as<Count>(spur::mysql::idempotent,
                                                     "SELECT COUNT(*) AS n FROM texts WHERE user_id = ?", user);
        page.total = count.value().n;
    }
    page.has_more = rows.size() > limit;
    if (page.has_more) rows.resize(limit);
    page.items = std::move(rows);
    co_return page;
}

spur::Task<bool> update_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id,
                             const std::optional<std::string>& title, const std::optional<std::string>& content,
                             const Quota& quota, const Precondition& check) {
    if (!content && !check) {
        auto r = co_await db.execute("UPDATE texts SET title = ?, version = version + 1 WHERE id = ? AND user_id = ?",
                                     title, id, user);
        co_return r.affected_rows > 0;  // matched rows (CLIENT_FOUND_ROWS), so an unchanged text still counts
    }
    const std::string excerpt = content ? excerpt_of(*content) : std::string();
    auto change = [&](spur::mysql::Connection& tx) -> spur::Task<bool> {
        // The quota is per user: its lock is needed only when the content (and so the size) changes.
        const std::uint64_t bytes = content ? (co_await usage_locked(tx, user)).bytes : 0;
        auto old = co_await tx.query_one_as<Current>("SELECT size, version FROM texts WHERE id = ? AND user_id = ? FOR UPDATE",
                                                     id, user);
        if (!old) co_return false;
        if (check) check(old->version);
        if (!content) {
            co_await tx.execute("UPDATE texts SET title = ?, version = version + 1 WHERE id = ?", title, id);
            co_return true;
        }
        if (bytes - old->size + content->size() > quota.max_bytes)
            throw QuotaExceeded(bytes_message(quota));
        co_await tx.execute(
            "UPDATE texts SET title = COALESCE(?, title), content = ?, size = ?, excerpt = ?, version = version + 1 "
            "WHERE id = ?",
            title, *content, content->size(), excerpt, id);
        co_return true;
    };
    co_return co_await db.transaction(change);
}

spur::Task<bool> delete_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id, const Precondition& check) {
    if (!check) {
        auto r = co_await db.execute("DELETE FROM texts WHERE id = ? AND user_id = ?", id, user);
        co_return r.affected_rows > 0;
    }
    auto remove = [&](spur::mysql::Connection& tx) -> spur::Task<bool> {
        auto current = co_await tx.query_one_as<Current>(
            "SELECT size, version FROM texts WHERE id = ? AND user_id = ? FOR UPDATE", id, user);
        if (!current) co_return false;
        check(current->version);
        co_await tx.execute("DELETE FROM texts WHERE id = ?", id);
        co_return true;
    };
    co_return co_await db.transaction(remove);
}

}  // namespace app::texts
