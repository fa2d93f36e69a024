#include "ai/repository.hpp"

#include <boost/describe/class.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

namespace app::ai {

namespace {
struct Stored {
    std::string summary;
};
BOOST_DESCRIBE_STRUCT(Stored, (), (summary))
}  // namespace

spur::Task<std::optional<std::vector<std::string>>> find_summary(spur::mysql::Pool& db, std::uint64_t text_id,
                                                                 std::uint64_t version, unsigned sentences) {
    auto row = co_await db.query_one_as<Stored>(
        "SELECT summary FROM text_ai_summaries WHERE text_id = ? AND version = ? AND sentences = ?", text_id, version,
        sentences);
    if (!row) co_return std::nullopt;
    // Written by save_summary only; a row that is not a list of strings is treated as absent.
    std::error_code ec;
    auto value = boost::json::parse(row->summary, ec);
    auto list = ec ? boost::json::result<std::vector<std::string>>(ec)
                   : boost::json::try_value_to<std::vector<std::string>>(value);
    if (!list) co_return std::nullopt;
    co_return std::move(*list);
}

spur::Task<> save_summary(spur::mysql::Pool& db, std::uint64_t text_id, std::uint64_t version, unsigned sentences,
                          std::vector<std::string> summary) {
    const auto json = boost::json::serialize(boost::json::value_from(summary));
    co_await db.execute(
        "INSERT INTO text_ai_summaries (text_id, version, sentences, summary) "
        "SELECT id, version, ?, ? FROM texts WHERE id = ? AND version = ? "
        "ON DUPLICATE KEY UPDATE summary = VALUES(summary)",
        sentences, json, text_id, version);
    co_await db.execute("DELETE FROM text_ai_summaries WHERE text_id = ? AND version < ?", text_id, version);
}

}  // namespace app::ai
