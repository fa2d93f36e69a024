#pragma once
// An App that logs nothing, for tests whose errors are expected and would only clutter the output.

#include <spur/app.hpp>
#include <spur/log.hpp>

#include <string_view>

namespace spur::test {

inline App quiet_app() { return App(AppOptions{[](LogLevel, std::string_view) {}}); }

}  // namespace spur::test
