#include "ai/service_client.hpp"

#include <spur/random.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>

namespace app::ai {

using Kind = spur::HttpClientError::Kind;

namespace {

spur::HttpError unavailable() {
    spur::HttpError e(503, "ai_unavailable", "The AI service is unavailable; try again shortly");
    e.with_header("Retry-After", "2");
    return e;
}

// "text/event-stream", with parameters or not; not a type that merely begins so.
bool is_event_stream(std::string_view content_type) {
    constexpr std::string_view type = "text/event-stream";
    if (content_type.size() < type.size() || !boost::beast::iequals(content_type.substr(0, type.size()), type)) return false;
    const auto rest = content_type.substr(type.size());
    return rest.empty() || rest.front() == ';' || rest.front() == ' ' || rest.front() == '\t';
}

}  // namespace

spur::HttpError ai_failure(const spur::HttpClientError& e) {
    switch (e.kind()) {
        case Kind::connect:
            return unavailable();
        case Kind::timeout:
            return spur::HttpError(504, "ai_timeout", "The AI service did not finish in time");
        default:
            return spur::HttpError(502, "ai_error", "The AI service failed");
    }
}

spur::Task<spur::ClientStream> open_summary(Services& s, const spur::Request& req, std::string content,
                                            unsigned sentences) {
    const auto& config = s.config;
    std::string url = config.ai_service_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/v1/summarize";
    boost::json::object body{{"text", std::move(content)}, {"max_sentences", sentences}, {"pace_ms", config.ai_pace_ms}};
    // A summary changes nothing at the service: the key only tells the client the POST may go again.
    spur::ClientHeaders headers{{"Content-Type", "application/json"},
                                {"Accept", "text/event-stream"},
                                {"Idempotency-Key", spur::random_token(16)},
                                {"X-Request-Id", std::string(req.id())}};
    auto call = spur::call_from(req, config.ai_timeout);
    std::optional<spur::HttpClientError> failed;
    try {
        auto stream = co_await s.ai.open("POST", std::move(url), boost::json::serialize(body), std::move(headers), call);
        if (stream.status() == 200 && is_event_stream(stream.header("Content-Type"))) co_return stream;
        // The text is the only thing spur-app varies: the service finds no sentence in it.
        if (stream.status() == 422)
            throw spur::HttpError(422, "nothing_to_summarize", "The text has no sentence to summarize");
        req.log().warn("the AI service refused a summary", {{"status", stream.status()}});
        // Busy (its AI_MAX_QUEUE is full) after the retries: unavailable for a moment, not broken.
        if (stream.status() == 503) throw unavailable();
    } catch (const spur::HttpClientError& e) {
        if (e.kind() == Kind::cancelled) throw;
        failed = e;
    }
    if (failed) {
        req.log().warn("the call to the AI service failed", {{"error", failed->what()}});
        throw ai_failure(*failed);
    }
    throw spur::HttpError(502, "ai_error", "The AI service failed");
}

}  // namespace app::ai
