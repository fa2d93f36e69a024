#pragma once
// All SQL for texts. Every query is scoped to its owner. Takes and returns plain structs;
// handlers make the JSON.

#include "auth/repository.hpp"

#include <spur/mysql/pool.hpp>
#include <spur/mysql/value.hpp>

#include <boost/describe/class.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace app::texts {

struct Text {
    std::uint64_t id = 0;
    std::string title;
    std::string content;
    spur::mysql::DateTime created_at;
    spur::mysql::DateTime updated_at;
    std::uint64_t version = 1;  ///< bumped by every change
};
BOOST_DESCRIBE_STRUCT(Text, (), (id, title, content, created_at, updated_at, version))

/// Called inside a write's transaction with the text's current version (its row locked):
/// throws to refuse the write (a stale If-Match), which then changes nothing.
using Precondition = std::function<void(std::uint64_t version)>;

/// A text as the list shows it: never the content, only its size and first characters.
struct Summary {
    std::uint64_t id = 0;
    std::string title;
    std::uint64_t size = 0;  ///< content bytes
    std::string excerpt;     ///< the content's first excerpt_length characters
    spur::mysql::DateTime created_at;
    spur::mysql::DateTime updated_at;
};
BOOST_DESCRIBE_STRUCT(Summary, (), (id, title, size, excerpt, created_at, updated_at))
inline constexpr std::size_t excerpt_length = 200;

/// What one user may store.
struct Quota {
    std::uint64_t max_texts = 0;
    std::uint64_t max_bytes = 0;
};
/// Thrown by create_text and update_text when the write would pass the quota; nothing is written.
struct QuotaExceeded : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Inserts a text, unless the user's quota is full (QuotaExceeded). Writes by one user are
/// serialised on their account row, so concurrent writes cannot overshoot the quota together.
/// `also` runs in the insert's transaction (marking the request's Idempotency-Key applied).
spur::Task<Text> create_text(spur::mysql::Pool& db, std::uint64_t user, const std::string& title,
                             const std::string& content, const Quota& quota,
                             std::function<spur::Task<>(spur::mysql::Connection&)> also);
spur::Task<std::optional<Text>> find_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id);

/// A text and its reader's token state, read together (auth::PendingAuth).
struct CheckedText {
    std::optional<auth::TokenState> token;  ///< nullopt: the account no longer exists
    std::optional<Text> text;               ///< nullopt: the user has no such text
};
/// find_text and auth::token_state(db, user, jti) in one statement: one round trip.
spur::Task<CheckedText> find_text_checked(spur::mysql::Pool& db, std::uint64_t user, const std::string& jti, std::uint64_t id);

struct Page {
    std::vector<Summary> items;
    std::optional<std::uint64_t> total;  ///< all of the user's texts; not counted for a search
    bool has_more = false;               ///< more items after this page
};
/// How much of each content a search reads, in characters: a search costs at most this much
/// per text, however large the texts are.
inline constexpr std::size_t search_prefix = 16384;
/// Newest first. `q` (if any) matches, as a literal substring compared in lower case, the
/// title or the content's first search_prefix characters; a search is not counted (total
/// stays empty), a plain list is.
spur::Task<Page> list_texts(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t limit, std::uint64_t offset,
                            const std::optional<std::string>& q);
/// Changes the given fields and bumps the version; false if the user has no such text;
/// QuotaExceeded if the new content would pass the user's byte quota; whatever `check`
/// throws if it refuses the current version.
spur::Task<bool> update_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id,
                             const std::optional<std::string>& title, const std::optional<std::string>& content,
                             const Quota& quota, const Precondition& check = {});
/// Deletes the text; false if the user has no such text; whatever `check` throws if it
/// refuses the current version.
spur::Task<bool> delete_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id, const Precondition& check = {});

}  // namespace app::texts
