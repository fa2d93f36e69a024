#pragma once
// The whole URL table of spur-app.

#include "services.hpp"

#include <spur/app.hpp>

namespace app {

/// Builds the application on `services` (which must outlive it).
spur::App build_app(Services& services);

}  // namespace app
