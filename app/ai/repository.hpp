#pragma once
// The summaries the AI service made, kept per text version and length (all SQL of app/ai).

#include <spur/mysql/pool.hpp>
#include <spur/task.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace app::ai {

/// The stored summary of version `version` of text `text_id`, `sentences` long, or nullopt.
spur::Task<std::optional<std::vector<std::string>>> find_summary(spur::mysql::Pool& db, std::uint64_t text_id,
                                                                 std::uint64_t version, unsigned sentences);

/// Keeps `summary` for that version — if the text still has it (a summary of a text changed
/// meanwhile is not kept) — and drops the summaries of the text's older versions.
spur::Task<> save_summary(spur::mysql::Pool& db, std::uint64_t text_id, std::uint64_t version, unsigned sentences,
                          std::vector<std::string> summary);

}  // namespace app::ai
