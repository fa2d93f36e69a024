#include "routes.hpp"

#include <spur/spur.hpp>

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace {

// A typed request: spur reads the JSON body into this struct, checks every rule written in
// the types (1 to 50 characters; 1 to 5) and answers 422 listing each problem, so the handler
// only ever sees a valid one. The same types document the route in /openapi.json.
struct GreetingIn {
    spur::String<1, 50> name;
    std::optional<spur::Int<1, 5>> times;  // absent or null: once
};
BOOST_DESCRIBE_STRUCT(GreetingIn, (), (name, times))

struct Greeting {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(Greeting, (), (message))

}  // namespace

void add_routes(spur::App& app) {
    spur::OpenApiOptions docs;
    docs.title = "@NAME@";
    docs.version = "0.1.0";
    spur::openapi(app, docs);

    app.post("/greetings", [](spur::Request&, spur::Response& res, spur::Body<GreetingIn> in) {
        Greeting out;
        const std::int64_t times = in->times.value_or(1);
        for (std::int64_t i = 0; i < times; ++i) {
            if (i > 0) out.message += ' ';
            out.message += "Hello, " + in->name + "!";
        }
        res.status(201).json(out);  // a described struct is written as JSON: {"message":"..."}
    }).summary("Greet someone").responds<Greeting>(201);
}
