#include "texts/handlers.hpp"

#include "auth/guard.hpp"
#include "texts/repository.hpp"
#include "validation.hpp"

#include <boost/json/array.hpp>

#include <charconv>

namespace app::texts {

namespace {
constexpr std::size_t max_content = 1024 * 1024;

std::string checked_title(std::string_view title) {
    auto n = utf8_length(title);
    if (!n || *n < 1 || *n > 255) invalid("title must be 1 to 255 characters of valid UTF-8");
    return std::string(title);
}

std::string checked_content(std::string_view content) {
    if (content.size() > max_content) throw spur::HttpError(413, "payload_too_large", "content is limited to 1 MiB");
    if (!utf8_length(content)) invalid("content must be valid UTF-8");
    return std::string(content);
}

std::uint64_t query_number(const spur::Request& req, std::string_view key, std::uint64_t fallback, std::uint64_t max) {
    auto v = req.query(key);
    if (!v || v->empty()) return fallback;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) invalid(std::string(key) + " must be a non-negative integer");
    return std::min(n, max);
}

spur::HttpError not_found() { return spur::HttpError(404, "No such text"); }

boost::json::object to_json(const Text& t) {
    return {{"id", t.id},
            {"title", t.title},
            {"size", t.content.size()},
            {"content", t.content},
            {"created_at", t.created_at.to_iso8601()},
            {"updated_at", t.updated_at.to_iso8601()}};
}

boost::json::object to_json(const Summary& t) {
    return {{"id", t.id},
            {"title", t.title},
            {"size", t.size},
            {"excerpt", t.excerpt},
            {"created_at", t.created_at.to_iso8601()},
            {"updated_at", t.updated_at.to_iso8601()}};
}

Quota quota(const Services& s) { return Quota{s.config.max_texts_per_user, s.config.max_text_bytes_per_user}; }

spur::HttpError quota_exceeded(const QuotaExceeded& e) { return spur::HttpError(403, "quota_exceeded", e.what()); }
}  // namespace

spur::Handler create(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        const auto& body = body_object(req.json());
        auto title = checked_title(required_string(body, "title"));
        auto content = checked_content(required_string(body, "content"));
        const Quota limits = quota(s);
        std::optional<Text> text;
        try {
            text = co_await create_text(s.db, auth::principal(req).user_id, title, content, limits);
        } catch (const QuotaExceeded& e) {
            throw quota_exceeded(e);
        }
        res.status(201).json({{"success", true}, {"text", to_json(*text)}});
    };
}

spur::Handler list(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        std::uint64_t limit = query_number(req, "limit", 20, 100);
        if (limit == 0) invalid("limit must be at least 1");
        std::uint64_t offset = query_number(req, "offset", 0, UINT32_MAX);
        std::optional<std::string> q;
        if (auto v = req.query("q"); v && !v->empty()) {
            // A substring search costs len(q) x len(content) on the server: keep q short.
            auto length = utf8_length(*v);
            if (!length || *length > 100) invalid("q must be valid UTF-8, at most 100 characters");
            q = std::string(*v);
        }
        auto page = co_await list_texts(s.db, auth::principal(req).user_id, limit, offset, q);
        boost::json::array items;
        for (const auto& text : page.items) items.push_back(to_json(text));
        res.json({{"success", true}, {"items", std::move(items)}, {"total", page.total}, {"limit", limit}, {"offset", offset}});
    };
}

spur::Handler show(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        auto id = parse_id(req.param("id"));
        std::optional<Text> text;
        if (id) text = co_await find_text(s.db, auth::principal(req).user_id, *id);
        if (!text) throw not_found();
        res.json({{"success", true}, {"text", to_json(*text)}});
    };
}

spur::Handler update(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        auto id = parse_id(req.param("id"));
        const auto& body = body_object(req.json());
        std::optional<std::string> title, content;
        if (auto t = optional_string(body, "title")) title = checked_title(*t);
        if (auto c = optional_string(body, "content")) content = checked_content(*c);
        if (!title && !content) invalid("give title, content or both");
        const auto user = auth::principal(req).user_id;
        const Quota limits = quota(s);
        bool found = false;
        try {
            if (id) found = co_await update_text(s.db, user, *id, title, content, limits);
        } catch (const QuotaExceeded& e) {
            throw quota_exceeded(e);
        }
        if (!found) throw not_found();
        auto text = co_await find_text(s.db, user, *id);
        if (!text) throw not_found();
        res.json({{"success", true}, {"text", to_json(*text)}});
    };
}

spur::Handler remove(Services& s) {
    return [&s](spur::Request& req, spur::Response& res) -> spur::Task<> {
        auto id = parse_id(req.param("id"));
        if (!id || !co_await delete_text(s.db, auth::principal(req).user_id, *id)) throw not_found();
        res.status(204).end();
    };
}

}  // namespace app::texts
