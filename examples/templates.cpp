// Server-rendered pages: Mustache views with a layout and a partial, a form that posts back,
// a session login, and cross-origin protection so another site cannot post the forms.
// Run: ./templates [port]   (SPUR_DEV=1: templates reload when edited; the build copies
// examples/views next to the program, so it starts from any directory)
//   open http://localhost:3000/, sign in with any name, leave a note
#include <spur/middleware/cross_origin.hpp>
#include <spur/middleware/session.hpp>
#include <spur/middleware/urlencoded.hpp>
#include <spur/spur.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace json = boost::json;

namespace {
// What a form field holds, trimmed; "" when absent.
std::string field(const spur::Request& req, std::string_view name) {
    auto value = std::string(spur::form_data(req)->field(name).value_or(""));
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    return value;
}

// A directory that ships beside the program, whatever the working directory is.
std::string beside_program(const char* name) {
    return (std::filesystem::canonical("/proc/self/exe").parent_path() / name).string();
}
}  // namespace

int main(int argc, char** argv) try {
    spur::App app;
    spur::views(app, {.dir = beside_program("views"), .layout = "layout", .reload = std::getenv("SPUR_DEV") != nullptr});
    app.use(spur::middleware::cross_origin_protection());  // a cross-site form post gets 403
    const char* secret = std::getenv("SESSION_SECRET");    // at least 32 bytes in production
    app.use(spur::middleware::session({.secret = secret ? secret : "example-only-secret-change-me-0123456789"}));
    app.use(spur::middleware::urlencoded());

    std::mutex mutex;
    json::array notes;  // {author, text}, newest first; a database in a real app

    app.get("/", [&](spur::Request& req, spur::Response& res) {
        auto user = spur::session(req).get<std::string>("user");
        std::lock_guard lock(mutex);
        spur::render(req, res, "index", {{"title", "Notes"}, {"user", user ? json::value(*user) : nullptr}, {"notes", notes}});
    });
    app.get("/login", [](spur::Request& req, spur::Response& res) { spur::render(req, res, "login", {{"title", "Sign in"}}); });
    app.post("/login", [](spur::Request& req, spur::Response& res) {
        auto name = field(req, "name");
        if (name.empty() || name.size() > 40) {
            spur::render(req, res.status(422), "login", {{"title", "Sign in"}, {"name", name}, {"error", "Enter a name of 1 to 40 characters."}});
            return;
        }
        auto& session = spur::session(req);
        session.regenerate();  // a new id at login: an id planted earlier is worthless now
        session.set("user", name);
        res.redirect("/", 303);
    });
    app.post("/logout", [](spur::Request& req, spur::Response& res) {
        spur::session(req).destroy();
        res.redirect("/", 303);
    });
    app.post("/notes", [&](spur::Request& req, spur::Response& res) {
        auto user = spur::session(req).get<std::string>("user");
        if (!user) return void(res.redirect("/login", 303));
        auto text = field(req, "text");
        if (text.empty() || text.size() > 500) throw spur::HttpError(422, "invalid_note", "A note holds 1 to 500 characters.");
        std::lock_guard lock(mutex);
        notes.insert(notes.begin(), json::object{{"author", *user}, {"text", text}});
        res.redirect("/", 303);
    });

    app.listen(static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000));
} catch (const std::exception& e) {  // a setup error (views, port) ends with one line, not std::terminate
    std::fprintf(stderr, "templates: %s\n", e.what());
    return 1;
}
