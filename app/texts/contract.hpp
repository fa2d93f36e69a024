#pragma once
// /api/texts on the wire.

#include <spur/types.hpp>

#include <boost/describe/class.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace app::texts {

struct TextIn {
    spur::String<1, 255> title;
    std::string content;  ///< at most 1 MiB (bytes): 413 above
};
BOOST_DESCRIBE_STRUCT(TextIn, (), (title, content))

/// A partial update: at least one of the two.
struct TextPatch {
    std::optional<spur::String<1, 255>> title;
    std::optional<std::string> content;
};
BOOST_DESCRIBE_STRUCT(TextPatch, (), (title, content))

struct TextQuery {
    std::optional<spur::Int<1>> limit;   ///< default 20; above 100 reads as 100
    std::optional<spur::Int<0>> offset;  ///< default 0
    /// A literal substring of the title or of the content's first search_prefix characters,
    /// compared in lower case.
    std::optional<spur::String<0, 100>> q;
};
BOOST_DESCRIBE_STRUCT(TextQuery, (), (limit, offset, q))

struct TextOut {
    std::uint64_t id = 0;
    std::string title;
    std::uint64_t size = 0;  ///< content bytes
    std::string content;
    spur::DateTime created_at;
    spur::DateTime updated_at;
    std::uint64_t version = 1;  ///< bumped by every change; the ETag is "<version>"
};
BOOST_DESCRIBE_STRUCT(TextOut, (), (id, title, size, content, created_at, updated_at, version))

struct TextSummaryOut {
    std::uint64_t id = 0;
    std::string title;
    std::uint64_t size = 0;
    std::string excerpt;  ///< the content's first 200 characters
    spur::DateTime created_at;
    spur::DateTime updated_at;
};
BOOST_DESCRIBE_STRUCT(TextSummaryOut, (), (id, title, size, excerpt, created_at, updated_at))

struct TextReply {
    bool success = true;
    TextOut text;
};
BOOST_DESCRIBE_STRUCT(TextReply, (), (success, text))

struct TextPage {
    bool success = true;
    std::vector<TextSummaryOut> items;
    /// The account's texts in all; null for a search, which is not counted (a count would scan
    /// every match again).
    std::optional<std::uint64_t> total;
    std::uint64_t limit = 0;
    std::uint64_t offset = 0;
    bool has_more = false;  ///< whether a page after this one has items
};
BOOST_DESCRIBE_STRUCT(TextPage, (), (success, items, total, limit, offset, has_more))

}  // namespace app::texts
