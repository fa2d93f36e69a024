#pragma once
// The app's routes, apart from main() so that tests/app_test.cpp drives the very same app
// in-process (spur::testing::Client) that the server serves.

#include <spur/app.hpp>

/// Registers every route of the app on `app`, and the OpenAPI document at /openapi.json.
/// Call once, before app.listen() or a test client; registering twice throws std::logic_error.
void add_routes(spur::App& app);
