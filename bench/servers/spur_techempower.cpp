// TechEmpower's database tests on spur and spur::mysql, as their rules say: /db (one random
// World row), /queries?queries=N (N rows, one query each, N clamped to 1..500), /fortunes
// (every Fortune plus one added at request time, sorted by message, rendered by spur's
// Mustache views with escaping) and /updates?queries=N (N rows read, each given a new
// random number, written in one transaction). bench/run.py seeds the tables.
// Run: DATABASE_URL=mysql://user:pass@localhost/db?socket=... spur_techempower PORT [THREADS]
#include <spur/mysql.hpp>
#include <spur/spur.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace json = boost::json;

namespace {

// A World id or randomNumber: 1..10000. Per thread: the generator is not request state.
int random_id() {
    thread_local std::minstd_rand engine{std::random_device{}()};
    return std::uniform_int_distribution<int>(1, 10000)(engine);
}

// The `queries` parameter as the rules read it: not a number → 1, else clamped to 1..500.
int query_count(const spur::Request& req) {
    const auto text = req.query("queries").value_or("");
    int n = 1;
    if (std::from_chars(text.data(), text.data() + text.size(), n).ec != std::errc{}) n = 1;
    return std::clamp(n, 1, 500);
}

constexpr std::string_view select_world = "SELECT id, randomNumber FROM World WHERE id = ?";

spur::Task<json::object> world(spur::mysql::Pool& db, int id) {
    auto rows = co_await db.execute(spur::mysql::idempotent, select_world, id);
    if (rows.empty()) throw spur::HttpError(500, "no_world", "World row missing: seed the table");
    const auto& row = rows.front();
    co_return json::object{{"id", row.get<std::int64_t>(0)}, {"randomNumber", row.get<std::int64_t>(1)}};
}

}  // namespace

int main(int argc, char** argv) {
    const char* url = std::getenv("DATABASE_URL");
    if (!url) {
        std::fprintf(stderr, "set DATABASE_URL\n");
        return 2;
    }
    spur::mysql::Pool db(spur::mysql::parse_url(url));
    spur::App app(spur::AppOptions{[](spur::LogLevel level, std::string_view line) {
        if (level >= spur::LogLevel::warn) std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    }});
    spur::views(app, {.dir = SPUR_BENCH_VIEWS});

    app.get("/db", [&db](spur::Request&, spur::Response& res) -> spur::Task<> {
        res.json(co_await world(db, random_id()));
    });

    app.get("/queries", [&db](spur::Request& req, spur::Response& res) -> spur::Task<> {
        const int n = query_count(req);
        json::array worlds;
        worlds.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) worlds.push_back(co_await world(db, random_id()));
        res.json(std::move(worlds));
    });

    app.get("/fortunes", [&db](spur::Request& req, spur::Response& res) -> spur::Task<> {
        auto rows = co_await db.execute(spur::mysql::idempotent, "SELECT id, message FROM Fortune");
        std::vector<std::pair<std::int64_t, std::string>> fortunes;
        fortunes.reserve(rows.size() + 1);
        for (const auto& row : rows) fortunes.emplace_back(row.get<std::int64_t>(0), row.get<std::string>(1));
        fortunes.emplace_back(0, "Additional fortune added at request time.");
        std::sort(fortunes.begin(), fortunes.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
        json::array list;
        list.reserve(fortunes.size());
        for (auto& [id, message] : fortunes) list.push_back(json::object{{"id", id}, {"message", std::move(message)}});
        spur::render(req, res, "fortunes", {{"fortunes", std::move(list)}});
    });

    app.get("/updates", [&db](spur::Request& req, spur::Response& res) -> spur::Task<> {
        const int n = query_count(req);
        std::vector<std::pair<int, int>> changed;  // id, new randomNumber
        changed.reserve(static_cast<std::size_t>(n));
        json::array worlds;
        worlds.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            auto w = co_await world(db, random_id());
            const int id = static_cast<int>(w["id"].as_int64());
            const int number = random_id();
            w["randomNumber"] = number;
            changed.emplace_back(id, number);
            worlds.push_back(std::move(w));
        }
        // Ids in order: two concurrent updates of overlapping rows lock them in the same order.
        std::sort(changed.begin(), changed.end());
        auto write = [&changed](spur::mysql::Connection& c) -> spur::Task<> {
            for (const auto& [id, number] : changed)
                co_await c.execute("UPDATE World SET randomNumber = ? WHERE id = ?", number, id);
        };
        co_await db.transaction(write);
        res.json(std::move(worlds));
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8080);
    options.threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
    options.max_connections_per_ip = 0;  // every benchmark client is 127.0.0.1
    app.listen(options);
}
