#pragma once
// Where an installed spur-app finds the files it serves: `cmake --install` and the Debian
// package put the binary in PREFIX/bin and its web front end and Swagger UI in
// PREFIX/share/spur-app, so the defaults are found from the running executable, with no
// setting and wherever the prefix is.

#include <string>
#include <string_view>

namespace app {

/// `<the executable's directory>/../share/spur-app/<name>`, normalised; empty when the
/// executable's path cannot be read (no /proc). The directory need not exist.
std::string installed_share(std::string_view name);

}  // namespace app
