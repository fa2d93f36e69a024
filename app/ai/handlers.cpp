#include "ai/handlers.hpp"

#include "ai/contract.hpp"
#include "ai/repository.hpp"
#include "ai/service_client.hpp"
#include "auth/guard.hpp"
#include "texts/repository.hpp"

#include <spur/contract/contract.hpp>
#include <spur/sse/sse.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>

namespace app::ai {

namespace {

using Caller = auth::Auth<auth::Principal, auth::Credentials::token_or_key>;

// A ticket for one summary of `user`, or 429: their previous one still streams, or the server
// streams as many as it allows. Each holds a connection to the AI service, not to the database.
InFlight::Ticket admit_summary(Services& s, std::uint64_t user) {
    return s.summaries.admit(user, {"summary_in_progress", "Your previous summary is still being made; wait for it"},
                             {"too_many_summaries", "The server is making as many summaries as it allows; retry shortly"}, "2");
}

spur::Event sentence_event(std::size_t index, const std::string& text) {
    return {boost::json::serialize(boost::json::object{{"index", index}, {"text", text}}), "sentence"};
}

spur::Event done_event(std::size_t sentences, bool cached, std::uint64_t version) {
    return {boost::json::serialize(boost::json::object{{"sentences", sentences}, {"cached", cached}, {"version", version}}), "done"};
}

spur::Event error_event(const spur::HttpError& e, const std::string& request_id, const std::string& trace_id) {
    return {boost::json::serialize(boost::json::object{
                {"code", e.code()}, {"message", e.message()}, {"request_id", request_id}, {"trace_id", trace_id}}),
            "error"};
}

// The text of a `sentence` event from the AI service ({"index":…,"text":"…",…}), or nullopt.
std::optional<std::string> sentence_text(const std::string& data) {
    std::error_code ec;
    auto v = boost::json::parse(data, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* text = v.as_object().if_contains("text");
    if (!text || !text->is_string()) return std::nullopt;
    return std::string(text->as_string());
}

// One summary being relayed: what the stream's handler needs after the route handler returned.
struct Relay {
    Relay(InFlight::Ticket t, spur::ClientStream u) : ticket(std::move(t)), upstream(std::move(u)) {}
    InFlight::Ticket ticket;
    spur::ClientStream upstream;
    std::uint64_t text_id = 0;
    std::uint64_t version = 0;
    unsigned sentences = 0;
    std::string request_id;
    std::string trace_id;
    const spur::LogSink* log = nullptr;  // the app's, which outlives every stream it serves
};

// Closes the AI service's stream however the relay ends — the client left, the server drains —
// so the service stops at once rather than when the response is destroyed.
struct CloseUpstream {
    Relay& relay;
    ~CloseUpstream() { relay.upstream.close(); }
};

// A failure of the relay, in the app's log with the request's ids (the client sees only its code).
void log_failure(const Relay& relay, std::string_view what, std::string_view why) {
    const std::array<spur::LogField, 2> fields{{{"text_id", relay.text_id}, {"reason", boost::json::string(why)}}};
    (*relay.log)(spur::LogRecord{.level = spur::LogLevel::warn, .message = what, .request_id = relay.request_id,
                                 .fields = fields, .trace_id = relay.trace_id});
}

spur::Task<> relay_summary(Services& s, std::shared_ptr<Relay> relay, spur::EventStream& out) {
    CloseUpstream closing{*relay};
    std::vector<std::string> got;
    std::optional<spur::HttpError> failed;
    bool finished = false;  // the service sent `done`
    std::string reason;     // what the log says when it did not
    try {
        while (auto event = co_await relay->upstream.next_event()) {
            if (event->event == "sentence") {
                auto text = sentence_text(event->data);
                if (!text) throw spur::HttpError(502, "ai_error", "The AI service sent a sentence spur-app cannot read");
                // The service answers what was asked; more than that is not relayed, nor stored.
                if (got.size() == relay->sentences) throw spur::HttpError(502, "ai_error", "The AI service sent more sentences than asked");
                auto sending = sentence_event(got.size(), *text);  // named: GCC 12
                got.push_back(std::move(*text));
                co_await out.send(sending);
            } else if (event->event == "done") {
                relay->upstream.close();
                finished = true;
                break;
            }
        }
        if (finished) {
            // Storing is what makes the next request cheap; the summary itself is delivered
            // either way, so a database that refuses the write is logged, not shown.
            std::optional<std::string> not_stored;
            try {
                if (!got.empty()) co_await save_summary(s.db, relay->text_id, relay->version, relay->sentences, got);
            } catch (const boost::system::system_error& e) {
                if (e.code() == boost::asio::error::operation_aborted) throw;  // the client left
                not_stored = e.what();
            } catch (const std::exception& e) {
                not_stored = e.what();
            }
            if (not_stored) log_failure(*relay, "a summary was not stored", *not_stored);
            auto done = done_event(got.size(), false, relay->version);
            co_await out.send(done);
            co_return;
        }
        failed = spur::HttpError(502, "ai_error", "The AI service ended the summary early");
    } catch (const spur::HttpClientError& e) {
        if (e.kind() == spur::HttpClientError::Kind::cancelled) throw;
        failed = ai_failure(e);
        reason = e.what();
    } catch (const spur::HttpError& e) {
        failed = e;
    }
    log_failure(*relay, "the AI service's summary stream failed", reason.empty() ? failed->message() : reason);
    auto error = error_event(*failed, relay->request_id, relay->trace_id);
    co_await out.send(error);
}

}  // namespace

spur::Handler summarize(Services& s) {
    return [&s](spur::Request& req, spur::Response& res, Caller caller, spur::Path<spur::Int<1>> id,
                spur::Query<SummaryQuery> query) -> spur::Task<> {
        const unsigned sentences = query->sentences ? static_cast<unsigned>(*query->sentences) : 3;
        const auto user = caller->user_id;
        auto text = co_await texts::find_text(s.db, user, static_cast<std::uint64_t>(*id));
        if (!text) throw spur::HttpError(404, "No such text");
        if (auto stored = co_await find_summary(s.db, text->id, text->version, sentences)) {
            auto summary = std::make_shared<std::vector<std::string>>(std::move(*stored));
            const auto version = text->version;
            spur::sse(req, res, [summary, version](spur::EventStream& out) -> spur::Task<> {
                for (std::size_t i = 0; i < summary->size(); ++i) {
                    auto sending = sentence_event(i, (*summary)[i]);
                    co_await out.send(sending);
                }
                auto done = done_event(summary->size(), true, version);
                co_await out.send(done);
            });
            res.set("Cache-Control", "private, no-store");  // sse()'s no-cache would let a shared cache keep it
            co_return;
        }
        auto ticket = admit_summary(s, user);
        auto upstream = co_await open_summary(s, req, std::move(text->content), sentences);
        auto relay = std::make_shared<Relay>(std::move(ticket), std::move(upstream));
        relay->text_id = text->id;
        relay->version = text->version;
        relay->sentences = sentences;
        relay->request_id = std::string(req.id());
        relay->trace_id = std::string(req.trace().trace_id_hex());
        relay->log = &req.app().log();
        spur::SseOptions options;
        options.keep_alive = std::chrono::seconds(10);
        spur::sse(req, res, options, [&s, relay](spur::EventStream& out) { return relay_summary(s, relay, out); });
        res.set("Cache-Control", "private, no-store");
    };
}

}  // namespace app::ai
