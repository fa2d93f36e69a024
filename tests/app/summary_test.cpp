// POST /api/texts/:id/summary against the real AI service (services/ai, started per test) and
// the test MariaDB, over real sockets, read with spur::HttpClient as it streams: sentences
// relayed as they come, the stored summary, the client leaving, one summary per account, trace
// context across the three processes, and each way the AI service can fail.
#include "ai_service.hpp"
#include "harness.hpp"

#include "client/harness.hpp"

#include <spur/app.hpp>
#include <spur/http_client.hpp>
#include <spur/sse/sse.hpp>

#include <boost/json/value_from.hpp>

#include <catch2/catch.hpp>

#include <mutex>

using namespace app::test;
using app::Config;
using spur::test::Io;
using spur::test::run;
using Clock = std::chrono::steady_clock;
namespace http = boost::beast::http;

namespace {

// Eight sentences on one subject.
const std::string article =
    "Rivers shape the valleys they run through. "
    "Farmers settle near rivers because the soil is rich. "
    "Rivers bring water, rich soil and trade to the farmers of the valleys. "
    "Cities grow where trade routes cross. "
    "Floods are the price of living near a river. "
    "Dams tame floods but change the valleys. "
    "Fish need rivers that run free. "
    "Every valley tells the story of its river.";

Config ai_config(const AiService& service, unsigned pace_ms) {
    Config c = test_config();
    c.ai_service_url = service.url();
    c.ai_pace_ms = pace_ms;
    return c;
}

std::uint64_t create_text(Running& app, const std::string& token, const std::string& content = article) {
    auto r = post(app, "/api/texts", {{"title", "rivers"}, {"content", content}}, bearer(token));
    REQUIRE(r.status == 201);
    return r.json().at("text").at("id").to_number<std::uint64_t>();
}

std::string summary_url(Running& app, std::uint64_t id, int sentences = 3) {
    return "http://127.0.0.1:" + std::to_string(app.port()) + "/api/texts/" + std::to_string(id) +
           "/summary?sentences=" + std::to_string(sentences);
}

struct Received {
    int status = 0;
    std::vector<spur::Event> events;
    std::string body;  // a refusal's JSON body
};

// The whole answer to a summary request, events as they came.
Received summarize(Running& app, std::uint64_t id, const std::string& token, spur::ClientHeaders extra = {}) {
    Io io;
    spur::HttpClient client;
    Received out;
    extra.emplace_back("Authorization", "Bearer " + token);
    run([&]() -> spur::Task<> {
        auto stream = co_await client.open("POST", summary_url(app, id), {}, extra);
        out.status = stream.status();
        if (out.status != 200) {
            out.body = co_await stream.read_all();
            co_return;
        }
        while (auto e = co_await stream.next_event()) out.events.push_back(std::move(*e));
    }());
    return out;
}

boost::json::value data(const spur::Event& e) { return boost::json::parse(e.data); }

}  // namespace

TEST_CASE("a summary streams sentence by sentence as the AI service finds them, and is then served from the database",
          "[app][ai]") {
    AiService service;
    Running app(ai_config(service, 300), true, Via::wire);
    const auto token = signup(app, unique_email("ai"));
    const auto id = create_text(app, token);
    Io io;
    spur::HttpClient client;
    const auto completed_before = service.stat("summaries_completed");
    std::vector<spur::Event> events;
    std::int64_t completed_at_first_sentence = -1;
    run([&]() -> spur::Task<> {
        spur::ClientHeaders auth{{"Authorization", "Bearer " + token}};  // named: GCC 12
        auto stream = co_await client.open("POST", summary_url(app, id), {}, auth);
        CHECK(stream.status() == 200);
        CHECK(stream.header("Content-Type").starts_with("text/event-stream"));
        CHECK(stream.header("Cache-Control") == "private, no-store");  // a text's summary is the account's
        while (auto e = co_await stream.next_event()) {
            // The first sentence is relayed before the service has finished the summary.
            if (events.empty()) completed_at_first_sentence = service.stat("summaries_completed");
            events.push_back(std::move(*e));
        }
    }());
    CHECK(completed_at_first_sentence == completed_before);
    CHECK(service.stat("summaries_completed") == completed_before + 1);
    REQUIRE(events.size() == 4);
    std::vector<std::string> sentences;
    for (int i = 0; i < 3; ++i) {
        CHECK(events[i].event == "sentence");
        CHECK(data(events[i]).at("index") == i);
        sentences.emplace_back(data(events[i]).at("text").as_string());
        CHECK(article.find(sentences.back()) != std::string::npos);  // extractive: the text's own sentences
    }
    // In the text's order, and exactly the service's own summary of it (it is deterministic).
    CHECK(article.find(sentences[0]) < article.find(sentences[1]));
    CHECK(article.find(sentences[1]) < article.find(sentences[2]));
    std::vector<std::string> direct;
    run([&]() -> spur::Task<> {
        boost::json::object ask{{"text", article}, {"max_sentences", 3}};
        spur::ClientHeaders json{{"Content-Type", "application/json"}};  // named: GCC 12
        auto from_service = co_await client.open("POST", service.url() + "/v1/summarize", boost::json::serialize(ask), json);
        while (auto e = co_await from_service.next_event())
            if (e->event == "sentence") direct.emplace_back(data(*e).at("text").as_string());
    }());
    CHECK(direct == sentences);
    CHECK(events[3].event == "done");
    CHECK(data(events[3]) == boost::json::parse(R"({"sentences":3,"cached":false,"version":1})"));

    // Stored with the text's version...
    boost::asio::io_context db_io;
    const auto stored = spur::test::test_db_row(
        db_io, "SELECT summary FROM text_ai_summaries WHERE text_id = ? AND version = 1 AND sentences = 3", std::to_string(id));
    CHECK(boost::json::parse(stored) == boost::json::value_from(sentences));
    // ...so asking again is answered from the database: the same sentences, cached, no new call.
    const auto started = service.stat("summaries_started");
    auto again = summarize(app, id, token);
    REQUIRE(again.events.size() == 4);
    for (int i = 0; i < 3; ++i) CHECK(data(again.events[i]).at("text").as_string() == sentences[i]);
    CHECK(data(again.events[3]).at("cached") == true);
    CHECK(service.stat("summaries_started") == started);

    // A new version is summarised anew, and the old version's summary is dropped.
    auto put = app.call(http::verb::put, "/api/texts/" + std::to_string(id),
                        boost::json::serialize(boost::json::object{{"content", article + " Rivers end in the sea."}}),
                        bearer(token));
    REQUIRE(put.status == 200);
    auto fresh = summarize(app, id, token);
    REQUIRE_FALSE(fresh.events.empty());
    CHECK(data(fresh.events.back()) == boost::json::parse(R"({"sentences":3,"cached":false,"version":2})"));
    boost::asio::io_context count_io;
    CHECK(spur::test::test_db_row(count_io, "SELECT CAST(COUNT(*) AS CHAR) FROM text_ai_summaries WHERE text_id = ?",
                                  std::to_string(id)) == "1");
}

TEST_CASE("a client that leaves mid-summary stops the AI service's work and frees its turn", "[app][ai]") {
    AiService service;
    Running app(ai_config(service, 500), true, Via::wire);
    const auto token = signup(app, unique_email("ai-leave"));
    const auto id = create_text(app, token);
    const auto cancelled_before = service.stat("summaries_cancelled");
    Io io;
    spur::HttpClient client;
    run([&]() -> spur::Task<> {
        spur::ClientHeaders auth{{"Authorization", "Bearer " + token}};  // named: GCC 12
        auto stream = co_await client.open("POST", summary_url(app, id), {}, auth);
        auto first = co_await stream.next_event();
        REQUIRE(first);
        CHECK(first->event == "sentence");
        stream.close();  // the browser tab closes
    }());
    CHECK(spur::test::eventually([&] { return service.stat("summaries_cancelled") == cancelled_before + 1; }));
    CHECK(service.log().find("\"cancelled\": true") != std::string::npos);
    // The account's turn is free again: a new summary is admitted, not refused with 429.
    CHECK(spur::test::eventually([&] {
        auto r = summarize(app, id, token);
        return r.status == 200;
    }));
}

TEST_CASE("one summary per account at a time: a second gets 429 summary_in_progress, another account is served",
          "[app][ai]") {
    AiService service;
    Running app(ai_config(service, 400), true, Via::wire);
    const auto token = signup(app, unique_email("ai-one"));
    const auto other = signup(app, unique_email("ai-other"));
    const auto id = create_text(app, token);
    const auto other_id = create_text(app, other);
    Io io;
    spur::HttpClient client;
    run([&]() -> spur::Task<> {
        spur::ClientHeaders auth{{"Authorization", "Bearer " + token}};  // named: GCC 12
        auto stream = co_await client.open("POST", summary_url(app, id), {}, auth);
        const auto first = co_await stream.next_event();  // not inside REQUIRE (GCC 12)
        REQUIRE(first);
        auto second = call(app.port(), http::verb::post, "/api/texts/" + std::to_string(id) + "/summary", {}, bearer(token));
        CHECK(second.status == 429);
        CHECK(second.json().at("error").at("code") == "summary_in_progress");
        CHECK(second.header("Retry-After") == "2");
        auto theirs = call(app.port(), http::verb::post, "/api/texts/" + std::to_string(other_id) + "/summary", {}, bearer(other));
        CHECK(theirs.status == 200);
        while (co_await stream.next_event()) {
        }
    }());
    // Someone else's text is not found, and the summary needs credentials.
    CHECK(call(app.port(), http::verb::post, "/api/texts/" + std::to_string(id) + "/summary", {}, bearer(other)).status == 404);
    CHECK(call(app.port(), http::verb::post, "/api/texts/" + std::to_string(id) + "/summary").status == 401);
    CHECK(call(app.port(), http::verb::post, "/api/texts/" + std::to_string(id) + "/summary?sentences=11", {}, bearer(token))
              .status == 400);
}

TEST_CASE("a trace id sent to spur-app reaches spur-app's log line and the AI service's log", "[app][ai]") {
    AiService service;
    Config config = ai_config(service, 0);
    config.log_format = "json";
    auto lines = std::make_shared<std::vector<std::string>>();
    auto mutex = std::make_shared<std::mutex>();
    config.access_log_sink = [lines, mutex](std::string_view line) {
        std::lock_guard lock(*mutex);
        lines->emplace_back(line);
    };
    Running app(config, true, Via::wire);
    const auto token = signup(app, unique_email("ai-trace"));
    const auto id = create_text(app, token);
    const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    const std::string sent = "00-" + trace_id + "-00f067aa0ba902b7-01";
    auto r = summarize(app, id, token, {{"traceparent", sent}});
    REQUIRE(r.status == 200);
    // The service logged the trace id, under a span of spur-app's call, not the caller's own.
    const auto service_log = service.log();
    CHECK(service_log.find("\"trace_id\": \"" + trace_id + "\"") != std::string::npos);
    CHECK(service_log.find(sent) == std::string::npos);
    CHECK(service_log.find("-01\"") != std::string::npos);  // the sampled flag passed on
    // The access line is written after the response is (a finish hook), so the client may see the
    // answer first: wait for the line rather than race it.
    const bool logged = spur::test::eventually([&] {
        std::lock_guard lock(*mutex);
        return std::any_of(lines->begin(), lines->end(), [&](const std::string& line) {
            return line.find("/summary") != std::string::npos && line.find(trace_id) != std::string::npos;
        });
    });
    CHECK(logged);
}

TEST_CASE("the AI service stopped is 503 ai_unavailable within a second, and once restarted summaries work again",
          "[app][ai]") {
    AiService service;
    Running app(ai_config(service, 0), true, Via::wire);
    const auto token = signup(app, unique_email("ai-down"));
    const auto id = create_text(app, token);
    REQUIRE(summarize(app, id, token).status == 200);
    const auto changed = app.call(http::verb::put, "/api/texts/" + std::to_string(id),
                                  R"({"content":"A new text. It is short. It has three sentences."})", bearer(token));
    REQUIRE(changed.status == 200);
    service.stop();
    const auto start = Clock::now();
    auto down = summarize(app, id, token);
    CHECK(Clock::now() - start < std::chrono::seconds(1));
    CHECK(down.status == 503);
    CHECK(boost::json::parse(down.body).at("error").at("code") == "ai_unavailable");
    service.start();  // the same port; spur-app is not restarted
    auto up = summarize(app, id, token);
    CHECK(up.status == 200);
    REQUIRE_FALSE(up.events.empty());
    CHECK(up.events.back().event == "done");
}

TEST_CASE("the AI service's failures read as 504 ai_timeout and 502 ai_error, before and during the stream", "[app][ai]") {
    SECTION("a stream that outlives AI_TIMEOUT ends with an ai_timeout event, and the service stops") {
        AiService service;
        Config config = ai_config(service, 3000);
        config.ai_timeout = std::chrono::seconds(1);
        Running app(config, true, Via::wire);
        const auto token = signup(app, unique_email("ai-slow"));
        const auto id = create_text(app, token);
        const auto cancelled = service.stat("summaries_cancelled");
        auto r = summarize(app, id, token);
        REQUIRE(r.status == 200);
        REQUIRE(r.events.size() == 1);
        CHECK(r.events[0].event == "error");
        CHECK(data(r.events[0]).at("code") == "ai_timeout");
        CHECK_FALSE(data(r.events[0]).at("trace_id").as_string().empty());
        CHECK(spur::test::eventually([&] { return service.stat("summaries_cancelled") == cancelled + 1; }));
    }
    SECTION("a service that never answers is 504 ai_timeout") {
        boost::asio::io_context silent_io;
        boost::asio::ip::tcp::acceptor silent(silent_io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        Config config = test_config();
        config.ai_service_url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
        config.ai_timeout = std::chrono::seconds(1);
        Running app(config, true, Via::wire);
        const auto token = signup(app, unique_email("ai-silent"));
        const auto id = create_text(app, token);
        auto r = summarize(app, id, token);
        CHECK(r.status == 504);
        CHECK(boost::json::parse(r.body).at("error").at("code") == "ai_timeout");
    }
    SECTION("a service that sends more sentences than asked is ai_error, and nothing is stored") {
        spur::App chatty(spur::AppOptions{.log = [](spur::LogLevel, std::string_view) {}});
        chatty.post("/v1/summarize", [](spur::Request& req, spur::Response& res) {
            spur::sse(req, res, [](spur::EventStream& out) -> spur::Task<> {
                for (int i = 0; i < 5; ++i) {
                    spur::Event e{R"({"index":0,"text":"Again."})", "sentence"};
                    co_await out.send(e);
                }
                spur::Event done{"{}", "done"};
                co_await out.send(done);
            });
        });
        spur::test::TestServer upstream(chatty);
        Config config = test_config();
        config.ai_service_url = "http://127.0.0.1:" + std::to_string(upstream.port());
        Running app(config, true, Via::wire);
        const auto token = signup(app, unique_email("ai-chatty"));
        const auto id = create_text(app, token);
        auto r = summarize(app, id, token);
        REQUIRE(r.status == 200);
        REQUIRE(r.events.size() == 4);  // the three asked for, then the error
        CHECK(r.events[2].event == "sentence");
        CHECK(r.events[3].event == "error");
        CHECK(data(r.events[3]).at("code") == "ai_error");
        boost::asio::io_context db_io;
        CHECK(spur::test::test_db_row(db_io, "SELECT CAST(COUNT(*) AS CHAR) FROM text_ai_summaries WHERE text_id = ?",
                                      std::to_string(id)) == "0");
    }
    SECTION("a text in which the service finds no sentence is 422 nothing_to_summarize") {
        AiService service;
        Running app(ai_config(service, 0), true, Via::wire);
        const auto token = signup(app, unique_email("ai-empty"));
        const auto id = create_text(app, token, "... !!! ???");
        auto r = summarize(app, id, token);
        CHECK(r.status == 422);
        CHECK(boost::json::parse(r.body).at("error").at("code") == "nothing_to_summarize");
    }
    SECTION("a service failing every time is retried: 502 is then ai_error, 503 (busy) ai_unavailable") {
        for (const int status : {502, 503}) {
            std::atomic<int> hits{0};
            spur::App failing(spur::AppOptions{.log = [](spur::LogLevel, std::string_view) {}});
            failing.post("/v1/summarize", [&](spur::Request& req, spur::Response& res) {
                ++hits;
                CHECK_FALSE(req.header("Idempotency-Key").empty());  // what makes the POST safe to repeat
                res.status(status).set("Retry-After", "0").send("busy");
            });
            spur::test::TestServer upstream(failing);
            Config config = test_config();
            config.ai_service_url = "http://127.0.0.1:" + std::to_string(upstream.port());
            Running app(config, true, Via::wire);
            const auto token = signup(app, unique_email("ai-5xx"));
            const auto id = create_text(app, token);
            auto r = summarize(app, id, token);
            CHECK(hits == 3);
            if (status == 502) {
                CHECK(r.status == 502);
                CHECK(boost::json::parse(r.body).at("error").at("code") == "ai_error");
            } else {
                CHECK(r.status == 503);
                CHECK(boost::json::parse(r.body).at("error").at("code") == "ai_unavailable");
            }
        }
    }
}
