// A JSON CRUD API with validation, on an in-memory store.
// Run: ./json_api [port]
//   curl -X POST localhost:3000/notes -H 'Content-Type: application/json' -d '{"text":"hi"}'  -> 201
//   curl localhost:3000/notes            -> {"items":[...]}
//   curl -X POST localhost:3000/notes -H 'Content-Type: application/json' -d '{"text":""}'  -> 400
#include <spur/middleware/json_body.hpp>
#include <spur/spur.hpp>

#include <cstdlib>
#include <map>
#include <mutex>

int main(int argc, char** argv) {
    spur::App app;
    // Handlers run on several I/O threads, so shared state needs a lock (a real app uses a database).
    std::mutex mutex;
    std::map<long, std::string> notes;
    long next_id = 1;

    auto validated_text = [](const spur::Request& req) {
        const auto& body = req.json();
        if (!body.is_object() || !body.as_object().contains("text") || !body.at("text").is_string() ||
            body.at("text").as_string().empty() || body.at("text").as_string().size() > 1000)
            throw spur::HttpError(400, "validation_error", "text must be a string of 1 to 1000 characters");
        return std::string(body.at("text").as_string());
    };

    app.get("/notes", [&](spur::Request&, spur::Response& res) {
        std::lock_guard lock(mutex);
        boost::json::array items;
        for (const auto& [id, text] : notes) items.push_back({{"id", id}, {"text", text}});
        res.json({{"items", items}});
    });
    app.post("/notes", spur::middleware::json_body(), [&](spur::Request& req, spur::Response& res) {
        auto text = validated_text(req);
        std::lock_guard lock(mutex);
        long id = next_id++;
        notes[id] = text;
        res.status(201).set("Location", "/notes/" + std::to_string(id)).json({{"id", id}, {"text", text}});
    });
    app.del("/notes/:id", [&](spur::Request& req, spur::Response& res) {
        std::lock_guard lock(mutex);
        if (notes.erase(std::atol(std::string(req.param("id")).c_str())) == 0)
            throw spur::HttpError(404, "not_found", "No such note");
        res.status(204).end();
    });

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
