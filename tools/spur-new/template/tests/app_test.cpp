// The app's routes driven in-process by spur::testing::Client: the whole pipeline (routing,
// typed body, validation, error answers) without a socket. Run with `ctest --preset dev`.
#include "routes.hpp"

#include <spur/testing/client.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstdio>

namespace {

int failures = 0;

// Reports a failed expectation and goes on, so that one run shows every failure.
// (A test framework — Catch2, GoogleTest — does this and more once the tests grow.)
void expect(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "app_test: expected %s\n", what);
    ++failures;
}

void greets_by_name(spur::testing::Client& client) {
    auto r = client.post_json("/greetings", {{"name", "Ada"}, {"times", 2}});
    expect(r.status == 201, "201 for a valid greeting");
    expect(r.header("Content-Type").starts_with("application/json"), "Content-Type application/json");
    expect(r.json() == boost::json::parse(R"({"message":"Hello, Ada! Hello, Ada!"})"), "the greeting, twice, as JSON");
}

void refuses_an_invalid_greeting_listing_each_problem(spur::testing::Client& client) {
    auto r = client.post_json("/greetings", {{"name", ""}, {"times", 9}});
    expect(r.status == 422, "422 for an empty name and times 9");
    const auto error = r.json().at("error");
    expect(error.at("code") == "validation_error", "the error code validation_error");
    const auto& details = error.at("details").as_array();
    expect(details.size() == 2 && details[0].at("path") == "/name" && details[1].at("path") == "/times",
           "one problem for /name and one for /times");
}

void documents_the_route(spur::testing::Client& client) {
    auto r = client.get("/openapi.json");
    expect(r.status == 200, "200 OK from /openapi.json");
    expect(r.json().at("paths").as_object().contains("/greetings"), "/greetings in the OpenAPI document");
}

}  // namespace

int main() {
    spur::App app;
    add_routes(app);
    spur::testing::Client client(app);
    greets_by_name(client);
    refuses_an_invalid_greeting_listing_each_problem(client);
    documents_the_route(client);
    if (failures == 0) std::puts("app_test: all passed");
    return failures == 0 ? 0 : 1;
}
