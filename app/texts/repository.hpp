#pragma once
// All SQL for texts. Every query is scoped to its owner. Takes and returns plain structs;
// handlers make the JSON.

#include <spur/mysql/pool.hpp>
#include <spur/mysql/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace app::texts {

struct Text {
    std::uint64_t id = 0;
    std::string title;
    std::string content;
    spur::mysql::DateTime created_at;
    spur::mysql::DateTime updated_at;
};

spur::Task<Text> create_text(spur::mysql::Pool& db, std::uint64_t user, const std::string& title,
                             const std::string& content);
spur::Task<std::optional<Text>> find_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id);

struct Page {
    std::vector<Text> items;
    std::uint64_t total = 0;
};
/// Newest first; `q` (if any) matches title or content as a literal substring.
spur::Task<Page> list_texts(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t limit, std::uint64_t offset,
                            const std::optional<std::string>& q);
/// Changes the given fields; false if the user has no such text.
spur::Task<bool> update_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id,
                             const std::optional<std::string>& title, const std::optional<std::string>& content);
spur::Task<bool> delete_text(spur::mysql::Pool& db, std::uint64_t user, std::uint64_t id);

}  // namespace app::texts
