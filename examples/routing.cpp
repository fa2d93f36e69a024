// Routing: parameters, query strings, a wildcard, and routers mounted under a prefix.
// Run: ./routing [port]
//   curl localhost:3000/users/42?fields=name     -> {"id":"42","fields":"name"}
//   curl localhost:3000/api/v1/items/7           -> {"item":"7","version":1}
//   curl localhost:3000/files/docs/readme.md     -> {"file":"docs/readme.md"}
//   curl -X DELETE localhost:3000/users/42       -> 405 with "Allow: GET, HEAD, OPTIONS"
#include <spur/spur.hpp>

#include <cstdlib>

int main(int argc, char** argv) {
    spur::App app;

    app.get("/users/:id", [](spur::Request& req, spur::Response& res) {
        res.json({{"id", req.param("id")}, {"fields", req.query("fields").value_or("all")}});
    });
    app.get("/users/me", [](spur::Request&, spur::Response& res) { res.json({{"id", "me"}}); });  // beats :id
    app.get("/files/*path", [](spur::Request& req, spur::Response& res) { res.json({{"file", req.param("path")}}); });

    // A router is a group of routes with their own middleware, mounted like express.Router.
    spur::Router v1;
    v1.get("/items/:id", [](spur::Request& req, spur::Response& res) {
        res.json({{"item", req.param("id")}, {"version", 1}});
    });
    spur::Router api;
    api.mount("/v1", v1);
    app.mount("/api", api);

    spur::ServerOptions options;
    options.port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 3000);
    app.listen(options);
}
