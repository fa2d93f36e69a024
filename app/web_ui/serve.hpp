#pragma once
// The web front end (app/web, built by Vite) served by spur-app at /.

#include <spur/app.hpp>

#include <filesystem>

namespace app::web_ui {

/// Serves the built front end from `root` (its index.html and assets/): hashed assets
/// immutable for a year, index.html never cached, and index.html for browser navigations
/// (GET accepting text/html) to paths no route serves — the client-side routes — while
/// unknown /api/ paths keep their JSON 404. Pages carry a strict CSP (no inline script).
/// Returns false, registering nothing, when `root` holds no index.html.
bool serve(spur::App& app, const std::filesystem::path& root);

}  // namespace app::web_ui
