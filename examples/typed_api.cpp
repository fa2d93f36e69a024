// Typed requests and OpenAPI: describe a struct once; spur parses and validates it (listing
// every problem), writes responses from structs, and documents the API at /openapi.json.
// Run: ADMIN_KEY=secret ./typed_api [port]   (SWAGGER_UI=node_modules/swagger-ui-dist also serves /docs)
//   curl localhost:3000/tasks -H 'Content-Type: application/json' -d '{"title":"write docs","priority":"high"}'  -> 201
//   curl 'localhost:3000/tasks?priority=high&limit=10'                         -> {"items":[...]}
//   curl -X POST localhost:3000/tasks -H 'Content-Type: application/json' -d '{"title":""}'  -> 422
//   echo hello > note.txt
//   curl localhost:3000/tasks/1/attachments -F note=spec -F file=@note.txt       -> 201 (a form upload)
//   curl -X DELETE localhost:3000/tasks/1 -H 'X-Admin-Key: secret'               -> 204 (401 without)
#include <spur/spur.hpp>

#include <boost/describe.hpp>

#include <cstdlib>
#include <string>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

BOOST_DEFINE_ENUM_CLASS(Priority, low, normal, high)

struct TaskIn {
    spur::String<1, 200> title;
    std::optional<Priority> priority;                       // absent or null: normal
    std::optional<spur::List<spur::String<1, 20>, 0, 5>> tags;
    std::optional<spur::DateTime> due;
};
BOOST_DESCRIBE_STRUCT(TaskIn, (), (title, priority, tags, due))

struct Task {
    std::int64_t id;
    std::string title;
    Priority priority;
    std::vector<std::string> tags;
    std::optional<spur::DateTime> due;
};
BOOST_DESCRIBE_STRUCT(Task, (), (id, title, priority, tags, due))

struct TaskFilter {
    std::optional<Priority> priority;
    std::optional<spur::Int<1, 100>> limit;
};
BOOST_DESCRIBE_STRUCT(TaskFilter, (), (priority, limit))

struct TaskList {
    std::vector<Task> items;
};
BOOST_DESCRIBE_STRUCT(TaskList, (), (items))

// A form (multipart/form-data here, as it carries a file): fields and files by member name.
struct AttachmentIn {
    std::optional<spur::String<0, 200>> note;
    spur::UploadedFile file;  // in memory: the route's body_limit bounds it
};
BOOST_DESCRIBE_STRUCT(AttachmentIn, (), (note, file))

struct Attachment {
    std::int64_t task;
    std::string filename;
    std::string content_type;
    std::uint64_t size;
    std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(Attachment, (), (task, filename, content_type, size, note))

// Your own extractor: a handler that takes `Admin` runs only for a caller with the admin key,
// and the route's OpenAPI security and 401 come from here, not from each route.
struct Admin {
    static Admin extract(spur::Request& req) {
        static const std::string key = std::getenv("ADMIN_KEY") ? std::getenv("ADMIN_KEY") : "";
        if (key.empty() || req.header("X-Admin-Key") != key) throw spur::HttpError(401, "unauthorized", "A valid X-Admin-Key is required");
        return {};
    }
    static void document(spur::ExtractorDoc& doc) {
        doc.security.push_back("adminKey");
        doc.errors.emplace_back(401, "No valid X-Admin-Key");
    }
};

int main(int argc, char** argv) {
    spur::App app;
    spur::OpenApiOptions docs;
    docs.title = "Tasks";
    docs.version = "1.0.0";
    docs.security_schemes["adminKey"] = {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Admin-Key"}};
    if (const char* ui = std::getenv("SWAGGER_UI")) docs.docs_assets = ui;
    spur::openapi(app, docs);

    std::mutex mutex;  // handlers run on several I/O threads
    std::map<std::int64_t, Task> tasks;
    std::int64_t next_id = 1;

    app.post("/tasks", [&](spur::Request&, spur::Response& res, spur::Body<TaskIn> in) {
        std::lock_guard lock(mutex);
        Task t{next_id++, in->title, in->priority.value_or(Priority::normal), {}, in->due};
        if (in->tags) t.tags.assign(in->tags->begin(), in->tags->end());
        tasks[t.id] = t;
        res.status(201).json(t);
    }).summary("Create a task").responds<Task>(201);

    app.get("/tasks", [&](spur::Request&, spur::Response& res, spur::Query<TaskFilter> filter) {
        std::lock_guard lock(mutex);
        TaskList list;
        for (const auto& [id, t] : tasks) {
            if (filter->priority && t.priority != *filter->priority) continue;
            if (list.items.size() == static_cast<std::size_t>(filter->limit.value_or(20))) break;
            list.items.push_back(t);
        }
        res.json(list);
    }).summary("List tasks").responds<TaskList>(200);

    app.get("/tasks/:id", [&](spur::Request&, spur::Response& res, spur::Path<spur::Int<1>> id) {
        std::lock_guard lock(mutex);
        auto it = tasks.find(*id);
        if (it == tasks.end()) throw spur::HttpError(404, "No such task");
        res.json(it->second);
    }).summary("Read a task").responds<Task>(200);

    app.del("/tasks/:id", [&](spur::Request&, spur::Response& res, Admin, spur::Path<spur::Int<1>> id) {
        std::lock_guard lock(mutex);
        if (tasks.erase(*id) == 0) throw spur::HttpError(404, "No such task");
        res.status(204).end();
    }).summary("Delete a task").responds(204);

    app.post("/tasks/:id/attachments", [&](spur::Request&, spur::Response& res, spur::Path<spur::Int<1>> id, spur::Form<AttachmentIn> in) {
        std::lock_guard lock(mutex);
        if (!tasks.contains(*id)) throw spur::HttpError(404, "No such task");
        Attachment a{*id, in->file.filename, in->file.content_type, in->file.size, {}};
        if (in->note) a.note = std::string(*in->note);
        res.status(201).json(a);
    }).summary("Attach a file to a task").responds<Attachment>(201).body_limit(256 * 1024);

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
