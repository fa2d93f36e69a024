#include "texts/handlers.hpp"

#include "idempotency.hpp"
#include "auth/guard.hpp"
#include "texts/contract.hpp"
#include "texts/repository.hpp"
#include "validation.hpp"

#include <spur/http/conditional.hpp>
#include <spur/contract/contract.hpp>

namespace app::texts {

namespace {
constexpr std::size_t max_content = 1024 * 1024;

// Bytes, not characters: the limit protects storage, and a 413 says "too large", not "invalid".
void check_content_size(const std::string& content) {
    if (content.size() > max_content) throw spur::HttpError(413, "payload_too_large", "content is limited to 1 MiB");
}

// Control characters, after the size (a 413 first): one validation error naming each field.
void check_text(const std::string* title, const std::string* content) {
    std::vector<spur::Violation> problems;
    if (title) check_no_control_characters(*title, "title", problems);
    if (content) check_no_control_characters(*content, "content", problems);
    if (!problems.empty()) throw spur::ValidationError(std::move(problems));
}

spur::HttpError not_found() { return spur::HttpError(404, "No such text"); }

TextOut out(const Text& t) {
    return {t.id, t.title, t.content.size(), t.content, t.created_at.to_iso8601(), t.updated_at.to_iso8601(), t.version};
}

std::string etag_of(std::uint64_t version) { return spur::make_etag(std::to_string(version)); }

// If-Match, checked against the version the write's transaction locked; none without the
// header. Weakly: the tag names the text's version, and the compression middleware sends it
// as W/"n" whenever it compresses the answer.
Precondition if_match(const spur::Request& req) {
    if (!req.has_header("If-Match")) return {};
    return [&req](std::uint64_t version) { spur::check_if_match(req, etag_of(version), true); };
}

TextSummaryOut out(const Summary& t) {
    return {t.id, t.title, t.size, t.excerpt, t.created_at.to_iso8601(), t.updated_at.to_iso8601()};
}

Quota quota(const Services& s) { return Quota{s.config.max_texts_per_user, s.config.max_text_bytes_per_user}; }

spur::HttpError quota_exceeded(const QuotaExceeded& e) { return spur::HttpError(403, "quota_exceeded", e.what()); }

// A ticket for one search of `user`, or 429: their previous search still runs, or the server
// runs as many as it allows. Retry-After: a search ends within max_statement_time (1 s).
InFlight::Ticket admit_search(Services& s, std::uint64_t user) {
    return s.searches.admit(user, {"search_in_progress", "Your previous search is still running; wait for its answer"},
                            {"too_many_searches", "The server is running as many searches as it allows; retry shortly"}, "1");
}
}  // namespace

// Texts are read and written with a token or an API key.
using Caller = auth::Auth<auth::Principal, auth::Credentials::token_or_key>;

spur::Handler create(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Caller caller, spur::Body<TextIn> in) -> spur::Task<> {
        check_content_size(in->content);
        const std::string& title = in->title;
        check_text(&title, &in->content);
        const Quota limits = quota(s);
        std::optional<Text> text;
        try {
            auto mark = [&s, &req](spur::mysql::Connection& tx) { return mark_applied(s, tx, req); };
            text = co_await create_text(s.db, caller->user_id, in->title, in->content, limits, mark);
        } catch (const QuotaExceeded& e) {
            throw quota_exceeded(e);
        }
        res.status(201).set("ETag", etag_of(text->version)).json(TextReply{true, out(*text)});
    };
}

spur::Handler list(Services& s) {
    return [&s](spur::Request&, spur::Response& res, Caller caller, spur::Query<TextQuery> query) -> spur::Task<> {
        const std::uint64_t limit = std::min<std::int64_t>(query->limit.value_or(20), 100);
        const std::uint64_t offset = std::min<std::int64_t>(query->offset.value_or(0), UINT32_MAX);
        std::optional<std::string> q;
        if (query->q && !query->q->empty()) q = *query->q;
        // A search holds a pooled connection while it scans: admitted one per account and up
        // to MAX_SEARCHES in all, refused at once beyond (nothing queues).
        std::optional<InFlight::Ticket> searching;
        if (q) searching.emplace(admit_search(s, caller->user_id));
        auto page = co_await list_texts(s.db, caller->user_id, limit, offset, q);
        TextPage reply{true, {}, page.total, limit, offset, page.has_more};
        reply.items.reserve(page.items.size());
        for (const auto& text : page.items) reply.items.push_back(out(text));
        res.json(reply);
    };
}

// The busiest read: the token's state comes with the text, in one statement (PendingAuth);
// confirm() refuses a revoked token before anything of the text is answered, 404 included.
spur::Handler show(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, auth::PendingAuth caller, spur::Path<spur::Int<1>> id) -> spur::Task<> {
        const auto text_id = static_cast<std::uint64_t>(*id);
        std::optional<Text> text;
        if (caller.confirmed) {
            text = co_await find_text(s.db, caller.principal.user_id, text_id);
        } else {
            auto read = co_await find_text_checked(s.db, caller.principal.user_id, caller.principal.jti, text_id);
            caller.confirm(read.token);
            text = std::move(read.text);
        }
        if (!text) throw not_found();
        if (spur::fresh(req, res, etag_of(text->version))) co_return;  // 304: the client's copy is current
        res.json(TextReply{true, out(*text)});
    };
}

spur::Handler update(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Caller caller, spur::Path<spur::Int<1>> path_id,
                spur::Body<TextPatch> in) -> spur::Task<> {
        const auto id = static_cast<std::uint64_t>(*path_id);
        if (!in->title && !in->content)
            throw spur::ValidationError({{"body", "", "minProperties", "give title, content or both"}});
        if (in->content) check_content_size(*in->content);
        std::optional<std::string> title, content;
        if (in->title) title = std::move(*in->title);
        if (in->content) content = std::move(*in->content);
        check_text(title ? &*title : nullptr, content ? &*content : nullptr);
        const auto user = caller->user_id;
        const Quota limits = quota(s);
        bool found = false;
        try {
            found = co_await update_text(s.db, user, id, title, content, limits, if_match(req));
        } catch (const QuotaExceeded& e) {
            throw quota_exceeded(e);
        }
        if (!found) throw not_found();
        auto text = co_await find_text(s.db, user, id);
        if (!text) throw not_found();
        res.set("ETag", etag_of(text->version)).json(TextReply{true, out(*text)});
    };
}

spur::Handler remove(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Caller caller, spur::Path<spur::Int<1>> id) -> spur::Task<> {
        if (!co_await delete_text(s.db, caller->user_id, static_cast<std::uint64_t>(*id), if_match(req)))
            throw not_found();
        res.status(204).end();
    };
}

}  // namespace app::texts
