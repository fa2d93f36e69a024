#pragma once
// The core's access to an App's internals, for the parts of the core that are not App itself
// (event streams register with the app's background work so that a drain ends them).

#include <spur/app.hpp>

#include "core/app_impl.hpp"

namespace spur::detail {

struct AppAccess {
    static Background& background(App& app) noexcept { return app.impl_->background; }
};

}  // namespace spur::detail
