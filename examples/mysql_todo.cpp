// An async MySQL todo list: every query suspends the handler, never the thread.
// Run: DATABASE_URL=mysql://user:pass@localhost/db?socket=/run/mysqld/mysqld.sock ./mysql_todo [port]
//   curl -X POST localhost:3000/todos -H 'Content-Type: application/json' -d '{"title":"write docs"}'
//   curl localhost:3000/todos
//   curl -X POST localhost:3000/todos/1/done
#include <spur/middleware/json_body.hpp>
#include <spur/mysql.hpp>
#include <spur/spur.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    const char* url = std::getenv("DATABASE_URL");
    if (!url) {
        std::fprintf(stderr, "set DATABASE_URL=mysql://user:pass@host/db\n");
        return 2;
    }
    spur::mysql::Pool db(spur::mysql::parse_url(url));
    spur::App app;

    app.post("/todos", spur::middleware::json_body(), [&db](spur::Request& req, spur::Response& res) -> spur::Task<> {
        const auto& body = req.json();
        if (!body.is_object() || !body.as_object().contains("title") || !body.at("title").is_string())
            throw spur::HttpError(400, "validation_error", "title is required");
        std::string title(body.at("title").as_string());
        // The table is created on first use so the example needs no setup.
        co_await db.query("CREATE TABLE IF NOT EXISTS todos (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                          "title VARCHAR(200) NOT NULL, done BOOL NOT NULL DEFAULT FALSE)");
        auto r = co_await db.execute("INSERT INTO todos (title) VALUES (?)", title);  // bound, never spliced
        res.status(201).json({{"id", r.last_insert_id}, {"title", title}, {"done", false}});
    });

    app.get("/todos", [&db](spur::Request&, spur::Response& res) -> spur::Task<> {
        co_await db.query("CREATE TABLE IF NOT EXISTS todos (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                          "title VARCHAR(200) NOT NULL, done BOOL NOT NULL DEFAULT FALSE)");
        boost::json::array items;
        for (const auto& row : co_await db.execute("SELECT id, title, done FROM todos ORDER BY id"))
            items.push_back({{"id", row.get<std::int64_t>("id")}, {"title", row.get<std::string>("title")},
                             {"done", row.get<bool>("done")}});
        res.json({{"items", items}});
    });

    app.post("/todos/:id/done", [&db](spur::Request& req, spur::Response& res) -> spur::Task<> {
        auto r = co_await db.execute("UPDATE todos SET done = TRUE WHERE id = ?", std::string(req.param("id")));
        if (r.affected_rows == 0) throw spur::HttpError(404, "not_found", "No such todo");
        res.status(204).end();
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
